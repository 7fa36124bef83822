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

// TestAllowedAndMOGuarded: with loopback in allow_networks a receipt and
// an MO reach a loopback receiver; under the default deny list an MO
// route's URL is refused when it connects as a dlr-url is (its name may
// resolve elsewhere than at load): a permanent failure, counted, never
// sent.
func TestAllowedAndMOGuarded(t *testing.T) {
	rc := newReceiver(t, status(http.StatusOK, ""))
	open := guard(t, "127.0.0.0/8")
	f := newFixture(t, func(o *Options) { o.Guard = open })
	if err := f.s.Enqueue(req(rc.url("/dlr"), "r")); err != nil {
		t.Fatal(err)
	}
	if h := rc.wait(t, 5*time.Second); h.form.Get("n") != "r" {
		t.Fatalf("request %+v", h)
	}
	mo := req(rc.url("/mo"), "m")
	mo.Kind, mo.SystemID = KindMO, ""
	if err := f.s.Enqueue(mo); err != nil {
		t.Fatal(err)
	}
	if h := rc.wait(t, 5*time.Second); h.path != "/mo" {
		t.Fatalf("request %+v", h)
	}
	eventually(t, 2*time.Second, "MO sent", func() bool { return f.s.Stats().MO.Sent == 1 })

	_, port, _ := net.SplitHostPort(rc.srv.Listener.Addr().String())
	g := guard(t)
	f2 := newFixture(t, func(o *Options) { o.Guard = g })
	mo = req("http://localhost:"+port+"/mo", "denied")
	mo.Kind, mo.SystemID = KindMO, ""
	if err := f2.s.Enqueue(mo); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "MO refused for good", func() bool { return f2.s.Stats().MO.Permanent == 1 })
	if _, dialled := g.Refusals(); dialled == 0 {
		t.Fatal("the guard counted no refusal")
	}
	if st := f2.s.Stats().MO; st.Sent != 0 || st.Retried != 0 {
		t.Fatalf("MO stats %+v: a denied address is neither sent nor retried", st)
	}
	if n := rc.count(); n != 2 {
		t.Fatalf("the receiver got %d requests, want 2 (the allowed receipt and MO)", n)
	}
}
