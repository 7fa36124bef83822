package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a callback's signature:
//
//	X-Smppd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
//
// The HMAC, keyed with the secret, is over "<t>.<METHOD>.<path>.<payload>":
// t as in the header, the method in upper case, the URL's escaped path
// ("/" when empty), and the payload: the body for POST, the query string
// as sent for GET (the URL's own query and the parameters, sorted by key
// as url.Values.Encode writes them). A receiver recomputes it over what it
// received, compares in constant time, and refuses a t further than
// ReplayWindow from its clock (and, to refuse a replay inside the window,
// an id it has already seen).
const SignatureHeader = "X-Smppd-Signature"

// ReplayWindow is how far a signature's t may be from the receiver's
// clock: the documented bound for receivers (Verify's usual window).
const ReplayWindow = 5 * time.Minute

// Errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: no signature")
	ErrBadSignature = errors.New("webhook: signature malformed")
	ErrStale        = errors.New("webhook: signature time outside the replay window")
	ErrMismatch     = errors.New("webhook: signature does not match")
)

// Sign returns the SignatureHeader value for a request at Unix second t.
func Sign(secret []byte, t int64, method, path string, payload []byte) string {
	ts := strconv.FormatInt(t, 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, method, path, payload))
}

func mac(secret []byte, ts, method, path string, payload []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write([]byte(strings.ToUpper(method)))
	m.Write([]byte{'.'})
	m.Write([]byte(path))
	m.Write([]byte{'.'})
	m.Write(payload)
	return m.Sum(nil)
}

// Verify checks a SignatureHeader value against a request received at
// now: its t within window of now, and a v1 equal to the HMAC of what was
// received (more than one v1 is accepted: a sender in the middle of a
// secret rotation). For Go receivers and smppd's own tests.
func Verify(header string, secret []byte, method, path string, payload []byte, now time.Time, window time.Duration) error {
	if header == "" {
		return ErrNoSignature
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
			return ErrBadSignature
		case k == "t":
			ts = v
		case k == "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				return ErrBadSignature
			}
			sigs = append(sigs, b)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(t, 0)); d > window || d < -window {
		return ErrStale
	}
	want := mac(secret, ts, method, path, payload)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return ErrMismatch
}
