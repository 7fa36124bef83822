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
// loopback (made here directly, as a stored callback would be), and an MO
// to such a name, are refused when dialled and never reach the receiver;
// both kinds of refusal are counted.
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
	// An MO route's URL whose name now resolves to loopback (a config
	// naming it would not load: TestMOURLAddressGuardAtLoad).
	must(t, d.webhook.Enqueue(&webhook.Request{Kind: webhook.KindMO, Method: storage.CallbackPOST,
		URL: "http://localhost:" + port + "/mo", Params: []byte("id=2")}))
	deadline := time.Now().Add(10 * time.Second)
	for metric("smppd_webhook_address_denied_total") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the receipt and MO callbacks to localhost were not refused at dial time")
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

// TestMOURLAddressGuardAtLoad: an [[mo_route]] url on loopback loads with
// the demo's loopback exception and is refused without it, the error
// naming the route's url key and its line.
func TestMOURLAddressGuardAtLoad(t *testing.T) {
	cfgPath, _, _, _ := demoDir(t)
	src, err := os.ReadFile(cfgPath)
	must(t, err)
	route := "[[mo_route]]\nname = \"to-web\"\nurl = \"http://127.0.0.1:9/sms/in\"\nsource_addrs = [\"re:^999\"]\n\n"
	conf := strings.Replace(string(src), "\n[[mo_route]]\nname = \"all-to-demo\"", "\n"+route+"[[mo_route]]\nname = \"all-to-demo\"", 1)
	if conf == string(src) {
		t.Fatal("the demo config's mo_route all-to-demo is gone: adjust the test")
	}
	must(t, os.WriteFile(cfgPath, []byte(conf), 0o600))
	if _, _, err := loadConfig(cfgPath); err != nil {
		t.Fatalf("with loopback allowed: %v", err)
	}
	line := 1 + strings.Count(conf[:strings.Index(conf, "url = \"http://127.0.0.1:9")], "\n")
	closed := strings.Replace(conf, `allow_networks = ["127.0.0.0/8", "::1/128"]`, `allow_networks = []`, 1)
	if closed == conf {
		t.Fatal("the demo config's allow_networks line changed: adjust the test")
	}
	must(t, os.WriteFile(cfgPath, []byte(closed), 0o600))
	_, _, err = loadConfig(cfgPath)
	if err == nil || !strings.Contains(err.Error(), "smppd.toml:"+strconv.Itoa(line)+": mo_route[") ||
		!strings.Contains(err.Error(), "].url") || !strings.Contains(err.Error(), "address 127.0.0.1 not allowed") {
		t.Fatalf("without loopback allowed: %v, want a refusal of the url at line %d", err, line)
	}
}
