package webhook

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/storage"
)

func guard(t *testing.T, allow ...string) *netguard.Guard {
	t.Helper()
	deny, err := netguard.ParsePrefixes(netguard.DefaultDeny)
	if err != nil {
		t.Fatal(err)
	}
	a, err := netguard.ParsePrefixes(allow)
	if err != nil {
		t.Fatal(err)
	}
	return netguard.New(deny, a)
}

// TestReceiptToDeniedAddress: a receipt callback whose URL resolves to a
// denied address (loopback, under the default deny list) is never sent:
// the connection is refused at dial time, the callback is a permanent
// failure kept as a dead letter, and the refusal is counted. The receiver
// is named "localhost", so only the check after resolution can catch it.
func TestReceiptToDeniedAddress(t *testing.T) {
	rc := newReceiver(t, status(http.StatusOK, ""))
	_, port, _ := net.SplitHostPort(rc.srv.Listener.Addr().String())
	g := guard(t)
	f := newFixture(t, func(o *Options) { o.Guard = g })
	if err := f.s.Enqueue(req("http://localhost:"+port+"/dlr", "1")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "refused for good", func() bool { return f.s.Stats().Receipts.Permanent == 1 })
	if _, dialled := g.Refusals(); dialled == 0 {
		t.Fatal("the guard counted no refusal")
	}
	eventually(t, 2*time.Second, "acknowledged", func() bool { return f.store.Holds().Len() == 0 })
	dl := deadLetters(t, f.store)
	if len(dl) != 1 || dl[0].Kind != storage.HeldCallback || !strings.Contains(dl[0].Reason, "not allowed") {
		t.Fatalf("dead letters %+v", dl)
	}
	if st := f.s.Stats().Receipts; st.Retried != 0 || st.Sent != 0 {
		t.Fatalf("stats %+v: a denied address is not retried", st)
	}
	if rc.count() != 0 {
		t.Fatalf("the receiver got %d requests", rc.count())
	}
}

// TestAllowedAndMOUnguarded: with loopback in allow_networks a receipt
// reaches a loopback receiver; an MO route's URL (the operator's) is not
// checked even under the default deny list.
func TestAllowedAndMOUnguarded(t *testing.T) {
	rc := newReceiver(t, status(http.StatusOK, ""))
	f := newFixture(t, func(o *Options) { o.Guard = guard(t, "127.0.0.0/8") })
	if err := f.s.Enqueue(req(rc.url("/dlr"), "r")); err != nil {
		t.Fatal(err)
	}
	if h := rc.wait(t, 5*time.Second); h.form.Get("n") != "r" {
		t.Fatalf("request %+v", h)
	}

	g := guard(t)
	f2 := newFixture(t, func(o *Options) { o.Guard = g })
	mo := req(rc.url("/mo"), "m")
	mo.Kind, mo.SystemID = KindMO, ""
	if err := f2.s.Enqueue(mo); err != nil {
		t.Fatal(err)
	}
	if h := rc.wait(t, 5*time.Second); h.path != "/mo" {
		t.Fatalf("request %+v", h)
	}
	eventually(t, 2*time.Second, "MO sent", func() bool { return f2.s.Stats().MO.Sent == 1 })
	if _, dialled := g.Refusals(); dialled != 0 {
		t.Fatalf("the guard refused %d MO connections", dialled)
	}
}
