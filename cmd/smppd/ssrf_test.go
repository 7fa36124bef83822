package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/storage"
)

// TestDLRURLAddressGuard runs the demo config without its loopback
// exception, as production runs: dlr-urls naming 127.0.0.1 or localhost
// are refused 400 by /send; a receipt callback to a name that resolves to
// loopback (made here directly, as a stored callback would be) is refused
// when dialled and never reaches the receiver; both kinds of refusal are
// counted.
func TestDLRURLAddressGuard(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	cfgPath, _, _, _ := demoDir(t)
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	conf := strings.Replace(string(src), `allow_networks = ["127.0.0.0/8", "::1/128"]`, `allow_networks = []`, 1)
	if conf == string(src) {
		t.Fatal("the demo config's allow_networks line changed: adjust the test")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	d, cfg, _ := runConfig(t, cfgPath)

	send := func(dlrURL string) (int, string) {
		q := url.Values{"username": {"demo"}, "password": {"demopass"}, "to": {"4915112345678"}, "content": {"hi"},
			"dlr-url": {dlrURL}, "dlr-level": {"1"}}
		var res *http.Response
		deadline := time.Now().Add(5 * time.Second)
		for {
			res, err = http.Get("http://127.0.0.1:" + strconv.Itoa(cfg.HTTPAPI.Port) + "/send?" + q.Encode())
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the listener starts with the daemon
		}
		must(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if st, body := send(srv.URL + "/dlr"); st != http.StatusBadRequest || !strings.Contains(body, "address not allowed") {
		t.Fatalf("/send with a loopback dlr-url: %d %q", st, body)
	}
	if st, body := send("http://localhost:" + port + "/dlr"); st != http.StatusBadRequest {
		t.Fatalf("/send with a dlr-url naming localhost: %d %q", st, body)
	}
	must(t, d.webhook.Enqueue(&webhook.Request{Kind: webhook.KindReceipt, Method: storage.CallbackPOST,
		URL: "http://localhost:" + port + "/dlr", SystemID: "demo", ID: 1, Params: []byte("id=1")}))
	metric := func(name string) float64 {
		mfs, err := d.metrics.Registry().Gather()
		must(t, err)
		for _, mf := range mfs {
			if mf.GetName() == name {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		t.Fatalf("no metric %s", name)
		return 0
	}
	deadline := time.Now().Add(10 * time.Second)
	for metric("smppd_webhook_address_denied_total") < 1 {
		if time.Now().After(deadline) {
			t.Fatal("the callback to localhost was not refused at dial time")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := metric("smppd_http_dlr_url_denied_total"); n != 2 {
		t.Errorf("smppd_http_dlr_url_denied_total = %v, want 2", n)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the receiver got %d requests", n)
	}
}
