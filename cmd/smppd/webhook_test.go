package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/delivery/webhook"
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
	d, _, _ := runConfig(t, cfgPath)

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

// TestSendWithDLRURL: a message sent over the Jasmin /send API with
// dlr-url and dlr-level 3 (GET) gets both callbacks from the demo's
// simulator: level 1 with ESME_ROK, then level 2 with DELIVRD, each
// signed with the user's callback_secret.
func TestSendWithDLRURL(t *testing.T) {
	const secret = "demo-callback-secret-0123"
	got := make(chan url.Values, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := webhook.Verify(r.Header.Get(webhook.SignatureHeader), []byte(secret), r.Method, r.URL.EscapedPath(),
			[]byte(r.URL.RawQuery), time.Now(), webhook.ReplayWindow); err != nil {
			t.Errorf("signature: %v", err)
		}
		got <- r.URL.Query()
	}))
	defer srv.Close()

	cfgPath, usersPath, _, _ := demoDir(t)
	users, err := os.ReadFile(usersPath)
	must(t, err)
	u := strings.Replace(string(users), "receipts = true\n", "receipts = true\ncallback_secret = \""+secret+"\"\n", 1)
	must(t, os.WriteFile(usersPath, []byte(u), 0o600))
	_, cfg, _ := runConfig(t, cfgPath)

	q := url.Values{"username": {"demo"}, "password": {"demopass"}, "to": {"4915112345678"}, "content": {"hello callbacks"},
		"dlr-url": {srv.URL + "/dlr"}, "dlr-level": {"3"}, "dlr-method": {"GET"}}
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
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "Success \"") {
		t.Fatalf("/send: %s %q", res.Status, body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(string(body), "Success \""), "\"")
	byLevel := map[string]url.Values{}
	for range 2 {
		select {
		case v := <-got:
			if v.Get("id") != id || v.Get("level") != "3" || v.Get("connector") != "sim" {
				t.Fatalf("callback %v for id %s", v, id)
			}
			if v.Get("id_smsc") != "" || v.Get("subdate") != "" {
				byLevel["2"] = v
			} else {
				byLevel["1"] = v
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("callbacks so far %v", byLevel)
		}
	}
	if v := byLevel["1"]; v == nil || v.Get("message_status") != "ESME_ROK" {
		t.Fatalf("level 1 callback %v", v)
	}
	if v := byLevel["2"]; v == nil || v.Get("message_status") != "DELIVRD" || v.Get("dlvrd") != "001" ||
		v.Get("text") != "hello callbacks" || len(v.Get("donedate")) != 10 {
		t.Fatalf("level 2 callback %v", v)
	}
}
