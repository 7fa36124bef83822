package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strconv"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// MORoute is what an [[mo_route]] with a url sends its MO with.
type MORoute struct {
	URL     string
	Method  uint8  // storage.CallbackPOST or storage.CallbackGET
	AckBody string // "ACK/Jasmin" for Jasmin's receivers; "" = any 2xx
}

// MORoutes finds the url route of a name in the routes in force (the
// table a SIGHUP may swap): safe for concurrent use.
type MORoutes interface {
	MORoute(name string) (MORoute, bool)
}

// PushMO sends an MO that the route named route matched to its URL, with
// Jasmin's parameters: id (a UUID of this MO), from, to, origin-connector,
// priority, coding, content (the octets as they came, coding says how to
// read them, as Jasmin does) and binary (the same in hex); validity is
// never sent, a deliver_sm carrying none (SMPP 3.4 §4.6.1). whole, when
// not nil, is the text of a concatenated MO joined by the delivery side
// (its UDH gone); else the MO's own short_message (or message_payload).
// The route's secret (RouteSecret) signs it when set. Errors as Enqueue's,
// and ErrUnknownRoute when no url route has that name. Views in in are
// read during the call only.
func (s *Service) PushMO(in *msg.Inbound, whole []byte, route string) error {
	var rt MORoute
	ok := false
	if s.opts.MORoutes != nil {
		rt, ok = s.opts.MORoutes.MORoute(route)
	}
	if !ok || rt.URL == "" {
		r := Request{Kind: KindMO, URL: "route " + route}
		s.refuse(&r, nil, "unknown_route", ErrUnknownRoute, s.now())
		return ErrUnknownRoute
	}
	content := whole
	if content == nil {
		content = in.ShortMessage
		if len(content) == 0 {
			content, _ = msg.FindTLV(in.TLVs, uint16(codec.TagMessagePayload))
		}
	}
	v := url.Values{}
	v.Set("id", newUUID())
	v.Set("from", string(in.Source))
	v.Set("to", string(in.Dest))
	v.Set("origin-connector", in.Connector)
	v.Set("priority", strconv.Itoa(int(in.Priority)))
	v.Set("coding", strconv.Itoa(int(in.DataCoding)))
	v.Set("content", string(content))
	v.Set("binary", hex.EncodeToString(content))
	r := Request{Kind: KindMO, Method: rt.Method, URL: rt.URL, AckBody: rt.AckBody, SecretRef: RouteSecret(route),
		Params: []byte(v.Encode())}
	return s.Enqueue(&r)
}

// newUUID is a random (version 4) UUID, the form of Jasmin's MO ids.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}
