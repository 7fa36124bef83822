package httpapi

import (
	"net/http"
	"testing"

	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// TestDLRURLDenied: under the default deny list a dlr-url naming an
// internal address is refused 400 on /send and on the JSON API, nothing is
// sent or stored, and the refusal is counted; a name (checked when the
// callback is dialled) and an address the operator allowed pass.
func TestDLRURLDenied(t *testing.T) {
	deny, err := netguard.ParsePrefixes(netguard.DefaultDeny)
	if err != nil {
		t.Fatal(err)
	}
	allow, _ := netguard.ParsePrefixes([]string{"10.9.0.0/16"})
	g := netguard.New(deny, allow)
	e := newEnv(t, func(o *Options) { o.DLRGuard = g })
	before := e.core.Store.Len()
	for _, u := range []string{"http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:8790/v1/users",
		"http://[::1]/x", "http://localhost/dlr", "https://10.1.2.3/dlr", "http://[::ffff:192.168.1.1]/"} {
		e.get("/send", sendQuery("alice", "dlr-url", u)).want(t, http.StatusBadRequest,
			`Error "Argument [dlr-url] has an invalid value: [`+u+`] (address not allowed)."`)
	}
	a := e.postJSON("alice", map[string]any{"to": "33612345678", "content": "hi", "dlr-url": "http://10.0.0.1/dlr"})
	a.wantError(t, http.StatusBadRequest, "invalid_request", "")
	if n := e.core.Store.Len() - before; n != 0 {
		t.Fatalf("%d records stored for refused messages", n)
	}
	if checked, _ := g.Refusals(); checked != 7 {
		t.Fatalf("refusals counted %d, want 7", checked)
	}
	for _, u := range []string{"http://receiver.example.com/dlr", "http://10.9.1.1/dlr", "https://192.0.2.1/dlr"} {
		id := e.get("/send", sendQuery("alice", "dlr-url", u)).successID(t)
		mid, _ := msg.ParseID([]byte(id))
		var cb storage.Callback
		if err := e.core.Store.Callbacks().Callback(mid, &cb); err != nil || cb.URL != u {
			t.Errorf("%s: callback %+v %v", u, cb, err)
		}
	}
}
