package webhook

import (
	"encoding/hex"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

type routeTable map[string]MORoute

func (r routeTable) MORoute(name string) (MORoute, bool) { v, ok := r[name]; return v, ok }

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestSignedMO: an MO pushed to a route's URL carries Jasmin's parameters
// and a signature the receiver checks with the route's secret, over POST
// and over GET (the query merged with the URL's own); a tampered body or
// another secret does not verify.
func TestSignedMO(t *testing.T) {
	secret := []byte("route-secret-abcdefghijklmnop")
	verified := make(chan error, 10)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		payload := []byte(r.URL.RawQuery)
		if r.Method == http.MethodPost {
			payload = make([]byte, r.ContentLength)
			_, _ = r.Body.Read(payload)
		}
		err := Verify(r.Header.Get(SignatureHeader), secret, r.Method, r.URL.EscapedPath(), payload, time.Now(), ReplayWindow)
		verified <- err
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ACK/Jasmin"))
	})
	routes := routeTable{
		"post": {URL: rc.url("/mo/in"), Method: storage.CallbackPOST, AckBody: "ACK/Jasmin"},
		"get":  {URL: rc.url("/mo/get?account=7"), Method: storage.CallbackGET, AckBody: "ACK/Jasmin"},
	}
	f := newFixture(t, func(o *Options) {
		o.MORoutes = routes
		o.Secrets = SecretsFunc(func(ref string) []byte {
			if ref == RouteSecret("post") || ref == RouteSecret("get") {
				return secret
			}
			return nil
		})
	})
	in := msg.Inbound{Connector: "smsc-a", Source: []byte("4917000"), Dest: []byte("1234"), Priority: 2, DataCoding: 8,
		ShortMessage: []byte{0, 'h', 0, 'i'}}
	if err := f.s.PushMO(&in, nil, "post"); err != nil {
		t.Fatal(err)
	}
	h := rc.wait(t, 5*time.Second)
	if err := <-verified; err != nil {
		t.Fatalf("POST signature: %v", err)
	}
	if h.method != http.MethodPost || h.path != "/mo/in" {
		t.Fatalf("request %s %s", h.method, h.path)
	}
	if !uuidRE.MatchString(h.form.Get("id")) {
		t.Fatalf("id %q is not a UUID", h.form.Get("id"))
	}
	wantForm(t, h.form, map[string]string{"id": h.form.Get("id"), "from": "4917000", "to": "1234",
		"origin-connector": "smsc-a", "priority": "2", "coding": "8", "content": "\x00h\x00i", "binary": "00680069"})

	// GET, a long MO joined by the delivery side (whole), in message_payload.
	whole := []byte("a long message joined from its parts")
	in2 := msg.Inbound{Connector: "smsc-b", Source: []byte("+4917"), Dest: []byte("99")}
	in2.TLVs = payloadTLV([]byte("xyz"))
	if err := f.s.PushMO(&in2, whole, "get"); err != nil {
		t.Fatal(err)
	}
	h = rc.wait(t, 5*time.Second)
	if err := <-verified; err != nil {
		t.Fatalf("GET signature: %v", err)
	}
	if h.method != http.MethodGet || h.form.Get("account") != "7" || h.form.Get("content") != string(whole) ||
		h.form.Get("binary") != hex.EncodeToString(whole) || h.form.Get("from") != "+4917" {
		t.Fatalf("GET request %s %v", h.method, h.form)
	}
	if err := f.s.PushMO(&in2, nil, "get"); err != nil {
		t.Fatal(err)
	}
	if h = rc.wait(t, 5*time.Second); h.form.Get("content") != "xyz" {
		t.Fatalf("payload MO content %q", h.form.Get("content"))
	}
	if err := <-verified; err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "sent", func() bool { return f.s.Stats().MO.Sent == 3 })

	if err := f.s.PushMO(&in, nil, "gone"); !errors.Is(err, ErrUnknownRoute) {
		t.Fatalf("unknown route: %v", err)
	}
	if st := f.s.Stats().MO; st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// payloadTLV is an encoded message_payload TLV holding v.
func payloadTLV(v []byte) []byte {
	tag := uint16(codec.TagMessagePayload)
	return append([]byte{byte(tag >> 8), byte(tag), byte(len(v) >> 8), byte(len(v))}, v...)
}

// TestSignVerify: Sign and Verify agree; a changed field, another secret,
// a stale or future t, and malformed headers are refused.
func TestSignVerify(t *testing.T) {
	secret := []byte("k")
	now := time.Unix(1_760_000_000, 0)
	h := Sign(secret, now.Unix(), "post", "/p", []byte("a=1&b=2"))
	if err := Verify(h, secret, "POST", "/p", []byte("a=1&b=2"), now.Add(time.Minute), ReplayWindow); err != nil {
		t.Fatalf("verify: %v", err)
	}
	cases := []struct {
		name   string
		header string
		secret string
		method string
		path   string
		body   string
		at     time.Time
		want   error
	}{
		{"body", h, "k", "POST", "/p", "a=1&b=3", now, ErrMismatch},
		{"path", h, "k", "POST", "/q", "a=1&b=2", now, ErrMismatch},
		{"method", h, "k", "GET", "/p", "a=1&b=2", now, ErrMismatch},
		{"secret", h, "other", "POST", "/p", "a=1&b=2", now, ErrMismatch},
		{"stale", h, "k", "POST", "/p", "a=1&b=2", now.Add(ReplayWindow + time.Second), ErrStale},
		{"future", h, "k", "POST", "/p", "a=1&b=2", now.Add(-ReplayWindow - time.Second), ErrStale},
		{"missing", "", "k", "POST", "/p", "", now, ErrNoSignature},
		{"no v1", "t=1", "k", "POST", "/p", "", now, ErrBadSignature},
		{"bad hex", "t=1,v1=zz", "k", "POST", "/p", "", now, ErrBadSignature},
		{"no t", "v1=00", "k", "POST", "/p", "", now, ErrBadSignature},
		{"garbage", "nonsense", "k", "POST", "/p", "", now, ErrBadSignature},
	}
	for _, c := range cases {
		if err := Verify(c.header, []byte(c.secret), c.method, c.path, []byte(c.body), c.at, ReplayWindow); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	rotated := h + ",v1=" + hex.EncodeToString(make([]byte, 32))
	if err := Verify(rotated, secret, "POST", "/p", []byte("a=1&b=2"), now, ReplayWindow); err != nil {
		t.Fatalf("a header with a second v1: %v", err)
	}
}

// TestHeldBody: a request survives its held form; damaged forms are
// refused, never mis-read.
func TestHeldBody(t *testing.T) {
	r := Request{Kind: KindMO, Method: 1, URL: "https://u:p@example.net:8443/x?y=1", AckBody: "ACK/Jasmin",
		SecretRef: RouteSecret("r"), SystemID: "bob", Params: []byte("a=1&b=%00")}
	b, err := appendRequest([]byte("prefix"), &r)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:6]) != "prefix" {
		t.Fatal("appendRequest changed the bytes before it")
	}
	var back Request
	if err := decodeRequest(b[6:], &back); err != nil {
		t.Fatal(err)
	}
	if back.Kind != r.Kind || back.Method != r.Method || back.URL != r.URL || back.AckBody != r.AckBody ||
		back.SecretRef != r.SecretRef || back.SystemID != r.SystemID || string(back.Params) != string(r.Params) {
		t.Fatalf("round trip %+v, want %+v", back, r)
	}
	body := b[6:]
	for i := range len(body) - len(r.Params) { // every truncation that cuts into the fields
		if err := decodeRequest(body[:i], &back); err == nil {
			t.Errorf("a body cut at %d decodes", i)
		}
	}
	bad := append([]byte(nil), body...)
	bad[0] = 9
	if decodeRequest(bad, &back) == nil {
		t.Error("an unknown version decodes")
	}
	long := r
	long.AckBody = string(make([]byte, 300))
	if _, err := appendRequest(nil, &long); err == nil {
		t.Error("an ack body over 255 octets is kept")
	}
	for raw, want := range map[string]string{
		"http://Example.NET/x":      "http://example.net:80",
		"HTTPS://h.example:9/p?q=1": "https://h.example:9",
		"https://[::1]/":            "https://::1:443",
	} {
		if _, got, err := parseTarget(raw); err != nil || got != want {
			t.Errorf("target of %s = %q, %v; want %q", raw, got, err, want)
		}
	}
	for _, raw := range []string{"", "ftp://h/", "http:///x", "/relative", "mailto:a@b", "http://%zz"} {
		if ValidURL(raw) {
			t.Errorf("ValidURL(%q) = true", raw)
		}
	}
}
