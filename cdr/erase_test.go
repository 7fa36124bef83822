package cdr

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// waitErase waits for the running erasure and returns its status.
func waitErase(t *testing.T, s *Stream) EraseStatus {
	t.Helper()
	s.eraseJob.wait()
	st := s.EraseStatus()
	if st.Running || st.Finished.IsZero() {
		t.Fatalf("erasure still running after wait: %+v", st)
	}
	return st
}

func TestEraseLinesOfANumber(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxFileSize = 1200 })
	const victim, other = "+4917000001", "4917000002"
	n := uint64(0)
	add := func(src, dst string) {
		n++
		e.put(n, "alice", src, dst, "x")
		e.final(n)
	}
	for range 3 {
		add("ACME", victim)
	}
	e.step()
	add("ACME", other)
	add("4917000001", other) // the number as a sender: erased too ('+' ignored)
	add("ACME", other)
	add("ACME", "49170000011") // a longer number holding the digits: kept
	e.step()
	add("ACME", victim) // still queued when the erasure starts: covered
	before := e.files()
	if err := e.s.EraseLines([]byte(victim)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.EraseLines([]byte(victim)); err != ErrEraseBusy && err != nil {
		t.Fatalf("a second erasure while one runs: %v, want ErrEraseBusy or nil (the first already finished)", err)
	}
	st := waitErase(t, e.s)
	if st.Lines != 5 || st.Error != "" || st.Number != "+4*******01" {
		t.Fatalf("status = %+v, want 5 lines removed and the number masked", st)
	}
	for _, l := range e.lines() {
		if l["destination"] == victim || l["source"] == "4917000001" {
			t.Fatalf("line of the erased number left: %v", l)
		}
	}
	if got := len(e.lines()); got != 3 {
		t.Fatalf("%d lines left, want the 3 of other numbers", got)
	}
	if after := e.files(); len(after) >= len(before)+1 {
		t.Fatalf("files %v -> %v: the file holding only the number's lines should be gone", before, after)
	}
	for _, name := range e.files() {
		if strings.HasSuffix(name, partExt) {
			t.Fatalf("%s: the erasure closes the file being written", name)
		}
	}
	if e.s.Stats().Erased != 5 {
		t.Fatalf("Stats.Erased = %d, want 5", e.s.Stats().Erased)
	}
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), `"lines_removed":5`) {
		t.Fatalf("status JSON %s", b)
	}
	// Writing goes on in a new file afterwards.
	add("ACME", other)
	e.step()
	if got := len(e.lines()); got != 4 {
		t.Fatalf("%d lines after one more, want 4", got)
	}
}

func TestEraseCopyLeftByACrashIsRemoved(t *testing.T) {
	e := newEnv(t, nil)
	e.put(1, "alice", "ACME", "4917000001", "x")
	e.final(1)
	e.step()
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	names := e.files()
	stray := filepath.Join(e.dir, names[0]+eraseExt)
	if err := os.WriteFile(stray, []byte("half"), 0o640); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(Options{Dir: e.dir, Messages: e.store, Now: e.clk.now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("the erasure's copy is still there: %v", err)
	}
	if got := ids(e.lines()); len(got) != 1 {
		t.Fatalf("lines = %v, want the original's one", got)
	}
}

func TestLookupMessageFindAndErase(t *testing.T) {
	e := newEnv(t, nil)
	for i := uint64(1); i <= 7; i++ {
		e.put(i, "alice", "ACME", "4917000001", "hello")
		e.clk.advance(time.Second)
	}
	e.put(8, "bob", "ACME", "4917000001", "hi bob")
	e.put(9, "bob", "ACME", "4917000002", "other")
	if err := e.store.SetState(3, 2 /* DELIVERED */, 0, e.clk.nowNs()); err != nil {
		t.Fatal(err)
	}
	l := NewLookup(LookupOptions{Messages: e.store, UpstreamIDs: e.store, Connectors: []string{"sim", "smsc-a"}, Stream: e.s})

	obj, found, err := l.Message(3, "")
	if err != nil || !found {
		t.Fatalf("Message(3): %v %v", found, err)
	}
	var m map[string]any
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	if m["state"] != "DELIVERED" || m["final"] == nil || m["refunded"] != nil || m["text"] != "hello" || m["connector"] != "smsc-a" {
		t.Fatalf("Message(3) = %s", obj)
	}
	if obj, _, _ = l.Message(4, ""); strings.Contains(string(obj), `"final"`) {
		t.Fatalf("a message under way has a final time: %s", obj)
	}
	if _, found, _ = l.Message(3, "bob"); found {
		t.Fatal("bob sees alice's message")
	}
	if _, found, _ = l.Message(99, ""); found {
		t.Fatal("an unknown id was found")
	}

	objs, next, err := l.Find([]byte("+4917000001"), "", 0, 0, 5)
	if err != nil || len(objs) != 5 || next == 0 {
		t.Fatalf("Find page 1: %d objects, next %v, %v", len(objs), next, err)
	}
	if !strings.Contains(string(objs[0]), `"id":"`+hexID(8)+`"`) {
		t.Fatalf("page 1 starts with %s, want the newest (8)", objs[0])
	}
	objs, next2, _ := l.Find([]byte("+4917000001"), "", 0, next, 5)
	if len(objs) != 3 || next2 != 0 {
		t.Fatalf("Find page 2: %d objects, next %v; want the last 3 and no next page", len(objs), next2)
	}
	if objs, _, _ = l.Find([]byte("4917000001"), "bob", 0, 0, 50); len(objs) != 1 {
		t.Fatalf("Find for bob: %d objects, want 1", len(objs))
	}
	if objs, _, _ = l.Find([]byte("4917000001"), "", t0.Add(3*time.Second).UnixNano(), 0, 50); len(objs) != 5 {
		t.Fatalf("Find since t0+3s: %d objects, want 5 (ids 4..8)", len(objs))
	}

	masked := NewLookup(LookupOptions{Messages: e.store, MaskContent: true})
	if obj, _, _ = masked.Message(3, ""); strings.Contains(string(obj), "hello") {
		t.Fatalf("masked lookup shows the text: %s", obj)
	}

	e.final(1)
	records, lines, err := l.Erase([]byte("4917000001"))
	if err != nil || records != 8 || !lines {
		t.Fatalf("Erase = %d records, lines %v, %v; want 8 and the lines' erasure started", records, lines, err)
	}
	waitErase(t, e.s)
	if objs, _, _ = l.Find([]byte("4917000001"), "", 0, 0, 50); len(objs) != 0 {
		t.Fatalf("after the erasure Find gives %d objects", len(objs))
	}
	if _, found, _ = l.Message(9, ""); !found {
		t.Fatal("another number's record was erased")
	}
	// The final state queued before the erasure is written after its
	// record went: its line holds no number.
	if got := e.lines(); len(got) != 1 || got[0]["destination"] != nil || got[0]["id"] != hexID(1) {
		t.Fatalf("CDR lines left after the erasure: %v, want only id 1's, without its record", got)
	}
	if _, _, err := l.Erase([]byte("+")); err == nil {
		t.Fatal("an empty number was accepted")
	}
	if st := l.EraseStatus(); !strings.Contains(string(st), `"running":false`) || !strings.Contains(string(st), `"lines_removed":0`) {
		t.Fatalf("EraseStatus = %s", st)
	}
	if st := NewLookup(LookupOptions{Messages: e.store}).EraseStatus(); st != nil {
		t.Fatalf("EraseStatus without CDRs = %s, want nil", st)
	}
}
