package storagetest

import (
	"testing"

	"github.com/smppd/smppd/storage"
)

// rewrittenCases: a record keeps the addresses the policy rewrote beside
// the submitted ones, only when it says so (storage.Record.Rewritten).
var rewrittenCases = []testCase{{name: "Record/Rewritten", run: recordRewritten}}

var durableRewrittenCases = []testCase{{name: "Durable/Rewritten", run: durableRewritten}}

// rewritten is record i sent by the ESME from "shop" to 01701234567,
// rewritten to Shop / 491701234567 (TON/NPI 1/1).
func rewritten(i uint64, sub int64) storage.Record {
	r := record(id(i), sub)
	r.SetAddrs([]byte("shop"), []byte("01701234567"), []byte("hello"))
	r.SourceTON, r.SourceNPI, r.DestTON, r.DestNPI = 0, 0, 0, 0
	r.SetUpstream(5, 0, []byte("Shop"), 1, 1, []byte("491701234567"))
	return r
}

// sameUp reports whether a and b have the same rewritten addresses.
func sameUp(a, b *storage.Record) bool {
	as, an, aa := a.UpstreamSource()
	bs, bn, ba := b.UpstreamSource()
	ds, dn, da := a.UpstreamDest()
	es, en, ea := b.UpstreamDest()
	return a.Rewritten == b.Rewritten && as == bs && an == bn && string(aa) == string(ba) &&
		ds == es && dn == en && string(da) == string(ea)
}

func recordRewritten(t *testing.T, e *env) {
	rw, plain := rewritten(1, e.now()), record(id(2), e.now())
	e.put(t, rw)
	e.put(t, plain)
	got := e.mustGet(t, id(1))
	if !same(got, rw) || !sameUp(&got, &rw) {
		t.Fatalf("rewritten record: Get = %+v\nwant %+v", got, rw)
	}
	if _, _, a := got.UpstreamDest(); string(a) != "491701234567" || string(got.DestAddr()) != "01701234567" {
		t.Fatalf("upstream destination %q, submitted %q", a, got.DestAddr())
	}
	if got := e.mustGet(t, id(2)); got.Rewritten || !same(got, plain) {
		t.Fatalf("a record without a rewrite reads as rewritten: %+v", got)
	}
	// A re-Put without the rewrite (a submit_multi's next destination)
	// drops it.
	again := record(id(1), e.now())
	e.put(t, again)
	if got := e.mustGet(t, id(1)); got.Rewritten {
		t.Fatalf("a re-Put without the rewrite kept it: %+v", got)
	}
	e.put(t, rw)
	// Find matches the submitted and the rewritten destination.
	recs := make([]storage.Record, 4)
	for _, a := range []string{"01701234567", "+491701234567"} {
		n, err := e.s.Find(&storage.Query{Addr: []byte(a)}, recs)
		if err != nil || n != 1 || recs[0].ID != id(1) || !recs[0].Rewritten {
			t.Fatalf("Find(%s) = %d %v %+v", a, n, err, recs[0])
		}
	}
	n, err := e.s.Find(&storage.Query{Addr: []byte("Shop"), Fields: storage.MatchSource}, recs)
	if err != nil || n != 1 || recs[0].ID != id(1) {
		t.Fatalf("Find(source Shop) = %d %v", n, err)
	}
}

func durableRewritten(t *testing.T, e *env) {
	rw, plain := rewritten(1, e.now()), record(id(2), e.now())
	e.put(t, rw)
	e.put(t, plain)
	e.reopen(t)
	if got := e.mustGet(t, id(1)); !same(got, rw) || !sameUp(&got, &rw) {
		t.Fatalf("after reopen: %+v\nwant %+v", got, rw)
	}
	if got := e.mustGet(t, id(2)); got.Rewritten || !same(got, plain) {
		t.Fatalf("after reopen, a plain record: %+v", got)
	}
}
