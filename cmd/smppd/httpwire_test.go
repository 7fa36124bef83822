package main

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smppd/smppd/codec"
)

// The demo config serves the HTTP API; a /send with dlr=yes and no dlr-url
// goes through the same hub and durable store as SMPP, and its receipt
// reaches the user's SMPP receiver naming the id /send answered.
func TestDemoHTTPAPI(t *testing.T) {
	d, _, _, _ := startDemo(t)
	if d.http == nil {
		t.Fatal("the demo config does not enable [http-api]")
	}
	base := "http://" + d.http.Addr().String()
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		must(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		must(t, err)
		return res.StatusCode, string(b)
	}
	if st, body := get("/ping"); st != 200 || body != "Jasmin/PONG" {
		t.Fatalf("/ping = %d %q", st, body)
	}
	c, st := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if st != codec.StatusOK {
		t.Fatalf("bind: %v", st)
	}
	q := url.Values{"username": {"demo"}, "password": {"demopass"}, "to": {"4915112345678"}, "content": {"over HTTP"}, "dlr": {"yes"}}
	st2, body := get("/send?" + q.Encode())
	id, ok := strings.CutPrefix(body, `Success "`)
	if st2 != 200 || !ok {
		t.Fatalf("/send = %d %q", st2, body)
	}
	id = strings.TrimSuffix(id, `"`)
	rcpt := expectDeliver(t, c)
	if got, _ := rcpt.TLVs.Get(codec.TagReceiptedMessageID); strings.TrimSuffix(string(got), "\x00") != id {
		t.Fatalf("receipted_message_id %q, want %q (/send's id)", got, id)
	}
	if st, body := get("/balance?username=demo&password=demopass"); st != 200 || body != `{"balance":"ND","sms_count":"ND"}` {
		t.Errorf("/balance = %d %q", st, body)
	}
	mfs, err := d.metrics.Registry().Gather()
	must(t, err)
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "smppd_http_messages_total" && mf.GetMetric()[0].GetCounter().GetValue() == 1 {
			found = true
		}
	}
	if !found {
		t.Error("smppd_http_messages_total is not 1")
	}
}
