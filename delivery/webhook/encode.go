package webhook

import (
	"encoding/binary"
	"net/url"
	"strings"

	"github.com/smppd/smppd/storage"
)

// A held callback's Body (storage.HeldCallback), little endian:
//
//	0 version (1)   1 kind   2 method
//	3 URL (u16 length), ack body (u8), secret ref (u8), owner system_id
//	  (u8), then the parameters (the rest)
//
// The message id rides in storage.Held.ID. The version lets a later
// release read what an older one held.
const (
	bodyVersion = 1
	bodyFixed   = 3
)

// maxParams bounds a request's parameters (an MO's content, hex-encoded
// twice at most, fits well within it).
const maxParams = 1 << 20

// appendRequest appends r's held form to dst.
func appendRequest(dst []byte, r *Request) ([]byte, error) {
	if len(r.URL) > storage.MaxCallbackURL || len(r.AckBody) > 255 || len(r.SecretRef) > 255 ||
		len(r.SystemID) > 255 || len(r.Params) > maxParams {
		return dst, errTooLong
	}
	dst = append(dst, bodyVersion, byte(r.Kind), r.Method)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(r.URL)))
	dst = append(dst, r.URL...)
	for _, s := range [...]string{r.AckBody, r.SecretRef, r.SystemID} {
		dst = append(dst, byte(len(s)))
		dst = append(dst, s...)
	}
	return append(dst, r.Params...), nil
}

// decodeRequest reads a held Body into r (strings copied, Params a copy).
func decodeRequest(b []byte, r *Request) error {
	if len(b) < bodyFixed+2 || b[0] != bodyVersion {
		return errBadHeldBody
	}
	r.Kind, r.Method = Kind(b[1]), b[2]
	if (r.Kind != KindReceipt && r.Kind != KindMO) || r.Method > storage.CallbackGET {
		return errBadHeldBody
	}
	n := int(binary.LittleEndian.Uint16(b[bodyFixed:]))
	b = b[bodyFixed+2:]
	if len(b) < n {
		return errBadHeldBody
	}
	r.URL, b = string(b[:n]), b[n:]
	for _, s := range [...]*string{&r.AckBody, &r.SecretRef, &r.SystemID} {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return errBadHeldBody
		}
		*s, b = string(b[1:1+int(b[0])]), b[1+int(b[0]):]
	}
	r.Params = append([]byte(nil), b...)
	return nil
}

// parseTarget parses an absolute http or https URL and returns it with
// its target: scheme://host:port, lower case, the port made explicit.
func parseTarget(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", ErrBadURL
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, "", ErrBadURL
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	u.Fragment, u.RawFragment = "", ""
	return u, scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port, nil
}

// ValidURL reports whether raw is a URL a callback can go to: absolute,
// http or https, with a host, at most storage.MaxCallbackURL octets (user
// information is allowed: net/http sends it as basic authentication).
// The HTTP API and the route checks use it.
func ValidURL(raw string) bool {
	if len(raw) > storage.MaxCallbackURL {
		return false
	}
	_, _, err := parseTarget(raw)
	return err == nil
}
