package httpapi

import (
	"net/netip"
	"testing"
	"time"
)

// TestSendStateAllocs: a /send message's own work before the hub (its
// parameters read into the pooled map, checked, the login through the
// verified-credential cache, the message built into the pooled state)
// allocates nothing once the pools are warm; net/http and the hub are
// measured elsewhere (BenchmarkSend, flow's gates).
func TestSendStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector drops pooled items at random")
	}
	e := newEnv(t)
	ip := netip.MustParseAddr("127.0.0.1")
	const query = "username=uma&password=umapw&to=33612345678&from=ACME&content=hello&priority=1"
	now := time.Now()
	run := func() {
		o := getOne()
		p := &o.p
		if err := p.fromQuery(query); err != nil {
			t.Fatal(err)
		}
		p.sendDefaults()
		if f := p.check(sendFields); f != nil {
			t.Fatal(f.reason)
		}
		u, err := e.users.Login(p.value(pUsername), p.value(pPassword), ip)
		if err != nil {
			t.Fatal(err)
		}
		if f := e.srv.build(u, p, &o.m, now); f != nil {
			t.Fatal(f.reason)
		}
		if string(o.m.to) != "33612345678" || string(o.m.payload) != "hello" || o.m.priority != 1 {
			t.Fatalf("message %+v", o.m)
		}
		o.release()
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("%v allocations a message, want 0", n)
	}
}
