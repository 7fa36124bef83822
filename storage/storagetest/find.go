package storagetest

import (
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// findCases hold Messages.Find to its contract: the lookup APIs' and
// erasure's scan.
var findCases = []testCase{
	{name: "Find/ByDestNewestFirst", run: findByDest},
	{name: "Find/Pages", run: findPages},
	{name: "Find/Filters", run: findFilters},
	{name: "Find/DeletedAndExpired", run: findGone},
}

// putTo stores record i (submitted at sub) sent by user from src to dst.
func (e *env) putTo(t *testing.T, i uint64, sub int64, user, src, dst string) storage.Record {
	t.Helper()
	r := record(id(i), sub)
	r.SystemID = user
	r.SetAddrs([]byte(src), []byte(dst), []byte("hello"))
	e.put(t, r)
	return r
}

// ids returns the ids of recs.
func ids(recs []storage.Record) []msg.ID {
	out := make([]msg.ID, len(recs))
	for i := range recs {
		out[i] = recs[i].ID
	}
	return out
}

func sameIDs(got []msg.ID, want ...uint64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != id(want[i]) {
			return false
		}
	}
	return true
}

func findByDest(t *testing.T, e *env) {
	now := e.now()
	e.putTo(t, 1, now, "alice", "ACME", "4917000001")
	e.putTo(t, 2, now, "bob", "ACME", "4917000002")
	want := e.putTo(t, 3, now, "bob", "ACME", "+4917000001")
	e.putTo(t, 4, now, "alice", "4917000001", "4917000009") // the number as a source only
	dst := make([]storage.Record, 10)
	n, err := e.s.Find(&storage.Query{Addr: []byte("4917000001")}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(dst[:n]); !sameIDs(got, 3, 1) {
		t.Fatalf("Find(dest 4917000001) = %v, want ids 3, 1 (newest first, '+' ignored)", got)
	}
	if !same(dst[0], want) {
		t.Fatalf("Find copied %+v\nwant %+v", dst[0], want)
	}
	n, _ = e.s.Find(&storage.Query{Addr: []byte("+4917000001"), Fields: storage.MatchDest | storage.MatchSource}, dst)
	if got := ids(dst[:n]); !sameIDs(got, 4, 3, 1) {
		t.Fatalf("Find(either field) = %v, want ids 4, 3, 1", got)
	}
	n, _ = e.s.Find(&storage.Query{Addr: []byte("4917000001"), Fields: storage.MatchSource}, dst)
	if got := ids(dst[:n]); !sameIDs(got, 4) {
		t.Fatalf("Find(source) = %v, want id 4", got)
	}
	if n, _ = e.s.Find(&storage.Query{Addr: []byte("491700000")}, dst); n != 0 {
		t.Fatalf("a prefix of the number found %d records: numbers match whole", n)
	}
	if n, _ = e.s.Find(&storage.Query{}, dst); n != 0 {
		t.Fatalf("an empty number found %d records", n)
	}
}

func findPages(t *testing.T, e *env) {
	now := e.now()
	for i := uint64(1); i <= 25; i++ {
		dst := "4917000001"
		if i%5 == 0 {
			dst = "4917000002"
		}
		e.putTo(t, i, now+int64(i), "alice", "ACME", dst)
	}
	var got []msg.ID
	q := storage.Query{Addr: []byte("4917000001")}
	page := make([]storage.Record, 7)
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		n, err := e.s.Find(&q, page)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		got = append(got, ids(page[:n])...)
		q.Before = page[n-1].ID
	}
	var want []uint64
	for i := uint64(25); i >= 1; i-- {
		if i%5 != 0 {
			want = append(want, i)
		}
	}
	if !sameIDs(got, want...) {
		t.Fatalf("pages gave %v, want every id to 4917000001 once, newest first (%v)", got, want)
	}
}

func findFilters(t *testing.T, e *env) {
	now := e.now()
	e.putTo(t, 1, now, "alice", "ACME", "4917000001")
	e.putTo(t, 2, now+int64(time.Minute), "bob", "ACME", "4917000001")
	e.putTo(t, 3, now+int64(2*time.Minute), "alice", "ACME", "4917000001")
	dst := make([]storage.Record, 10)
	n, _ := e.s.Find(&storage.Query{Addr: []byte("4917000001"), SystemID: "alice"}, dst)
	if got := ids(dst[:n]); !sameIDs(got, 3, 1) {
		t.Fatalf("Find(alice) = %v, want ids 3, 1", got)
	}
	n, _ = e.s.Find(&storage.Query{Addr: []byte("4917000001"), Since: now + int64(time.Minute)}, dst)
	if got := ids(dst[:n]); !sameIDs(got, 3, 2) {
		t.Fatalf("Find(since +1m) = %v, want ids 3, 2", got)
	}
	n, _ = e.s.Find(&storage.Query{Addr: []byte("4917000001")}, dst[:1])
	if got := ids(dst[:n]); !sameIDs(got, 3) {
		t.Fatalf("Find into one slot = %v, want the newest, id 3", got)
	}
	if n, _ = e.s.Find(&storage.Query{Addr: []byte("4917000001")}, nil); n != 0 {
		t.Fatalf("Find into no room returned %d", n)
	}
}

func findGone(t *testing.T, e *env) {
	now := e.now()
	e.putTo(t, 1, now, "alice", "ACME", "4917000001")
	e.putTo(t, 2, now, "alice", "ACME", "4917000001")
	if err := e.s.Delete(id(2)); err != nil {
		t.Fatal(err)
	}
	dst := make([]storage.Record, 10)
	n, _ := e.s.Find(&storage.Query{Addr: []byte("4917000001")}, dst)
	if got := ids(dst[:n]); !sameIDs(got, 1) {
		t.Fatalf("Find after Delete = %v, want id 1", got)
	}
	// record() gives Expires = sub + 30m; past it plus the TTL the record
	// is gone for Find as for Get.
	e.advance(ttl + 31*time.Minute)
	if n, _ = e.s.Find(&storage.Query{Addr: []byte("4917000001")}, dst); n != 0 {
		t.Fatalf("Find found %d records past their lifetime", n)
	}
}

// durableFind: what Find sees survives a reopen.
func durableFind(t *testing.T, e *env) {
	now := e.now()
	e.putTo(t, 1, now, "alice", "ACME", "4917000001")
	e.putTo(t, 2, now, "alice", "ACME", "4917000001")
	if err := e.s.Delete(id(1)); err != nil {
		t.Fatal(err)
	}
	e.reopen(t)
	dst := make([]storage.Record, 10)
	n, err := e.s.Find(&storage.Query{Addr: []byte("4917000001")}, dst)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(dst[:n]); !sameIDs(got, 2) {
		t.Fatalf("Find after a reopen = %v, want id 2 (1 was deleted)", got)
	}
}

// durableFindCases run under RunDurable.
var durableFindCases = []testCase{{name: "Durable/Find", run: durableFind}}
