package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/internal/smpptest"
)

// TestMORouteToURL runs the demo config with an [[mo_route]] that sends
// the simulator's echoes to a URL: a two-part MT to 999... comes back as
// two MO parts, which reach the receiver as one signed POST with Jasmin's
// parameters, the whole text joined.
func TestMORouteToURL(t *testing.T) {
	const secret = "route-secret-for-the-test-0123"
	t.Setenv("SMPPD_TEST_MO_SECRET", secret)
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), []byte(secret), r.Method, r.URL.EscapedPath(), body,
			time.Now(), webhook.ReplayWindow); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		v, _ := url.ParseQuery(string(body))
		got <- v
		_, _ = io.WriteString(w, "ACK/Jasmin")
	}))
	defer srv.Close()

	cfgPath, _, _, _ := demoDir(t)
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	route := "[[mo_route]]\nname = \"echo-to-web\"\nurl = \"" + srv.URL + "/sms/in\"\nack_body = \"ACK/Jasmin\"\n" +
		"secret = \"env:SMPPD_TEST_MO_SECRET\"\nsource_addrs = [\"re:^999\"]\n\n"
	conf := strings.Replace(string(src), "\n[[mo_route]]\nname = \"all-to-demo\"", "\n"+route+"[[mo_route]]\nname = \"all-to-demo\"", 1)
	if conf == string(src) {
		t.Fatal("the demo config's mo_route all-to-demo is gone: adjust the test")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	cfg, err := config.Load(cfgPath)
	must(t, err)
	d, err := newDaemon(cfg, zerolog.New(zerolog.NewTestWriter(t)), func(o *engine.Options) { o.Addr, o.EventLoops = "127.0.0.1:0", 2 })
	must(t, err)
	must(t, d.start())
	t.Cleanup(d.stop)

	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	a, b := strings.Repeat("a", 150), "and the rest"
	for i, part := range []string{a, b} {
		udh, err := concat.AppendUDH(nil, concat.Segment{Ref: 42, Total: 2, Seq: uint8(i + 1)}, false, nil)
		must(t, err)
		body := smpptest.SubmitBody("4915112345678", "999123", string(append(udh, part...)))
		body[1+2+len("4915112345678")+1+2+len("999123")+1] = codec.ESMClassUDHI // esm_class
		must(t, c.Send(codec.SubmitSMID, 0, uint32(2+i), body))
		if _, _, err := c.Expect(5*time.Second, codec.SubmitSMRespID, codec.StatusOK); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case v := <-got:
		if v.Get("content") != a+b || v.Get("from") != "999123" || v.Get("to") != "4915112345678" ||
			v.Get("origin-connector") != "sim" || v.Get("coding") != "0" || len(v.Get("id")) != 36 {
			t.Fatalf("MO parameters %v", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no MO reached the URL")
	}
	select {
	case v := <-got:
		t.Fatalf("a second request: %v", v)
	case <-time.After(200 * time.Millisecond):
	}
	if st := d.webhook.Stats(); st.MO.Sent != 1 {
		t.Fatalf("webhook stats %+v", st)
	}
}
