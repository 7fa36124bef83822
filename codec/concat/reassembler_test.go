package concat

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

type addrKey struct {
	src, dst [21]byte
}

func key(src, dst string) addrKey {
	var k addrKey
	copy(k.src[:], src)
	copy(k.dst[:], dst)
	return k
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// text returns n distinct-looking GSM7 septets seeded by s.
func text(n int, s byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'A' + byte((i+int(s))%26)
	}
	return p
}

func mustSplit(t testing.TB, payload []byte, a Alphabet, m Method, ref uint16) []Part {
	t.Helper()
	parts, _, err := Split(nil, nil, payload, a, m, ref)
	if err != nil {
		t.Fatal(err)
	}
	return parts
}

type dropLog struct {
	reasons []DropReason
	held    []int
	first   [][]byte // copy of part 1 if held
}

func (d *dropLog) fn(x *Dropped[addrKey]) {
	d.reasons = append(d.reasons, x.Reason)
	d.held = append(d.held, x.Received)
	p, _ := x.Part(1)
	d.first = append(d.first, append([]byte(nil), p...))
}

func TestReassembleOrders(t *testing.T) {
	payload := text(700, 3)
	parts := mustSplit(t, payload, GSM7, UDH8, 77)
	if len(parts) != 5 {
		t.Fatalf("want 5 parts, got %d", len(parts))
	}
	orders := map[string][]int{
		"in order":         {0, 1, 2, 3, 4},
		"reverse":          {4, 3, 2, 1, 0},
		"shuffled":         {2, 0, 4, 1, 3},
		"last two swapped": {0, 1, 2, 4, 3},
	}
	for name, order := range orders {
		var log dropLog
		r := New(Config{}, log.fn)
		k := key("447700900001", "1234")
		for i, idx := range order {
			p := parts[idx]
			// A scratch copy proves Add copies the body.
			body := append([]byte(nil), p.Body...)
			m, done, err := r.Add(t0.Add(time.Duration(i)*time.Second), k, p.Segment, body)
			clear(body)
			if err != nil {
				t.Fatalf("%s: part %d: %v", name, p.Seq, err)
			}
			if done != (i == len(order)-1) {
				t.Fatalf("%s: done=%v after %d parts", name, done, i+1)
			}
			if !done {
				continue
			}
			if !bytes.Equal(m.Body, payload) || m.Key != k || m.Ref != 77 || m.Total != 5 || !m.First.Equal(t0) {
				t.Fatalf("%s: wrong message %q ref %d total %d first %v", name, m.Body, m.Ref, m.Total, m.First)
			}
			for _, q := range parts {
				if !bytes.Equal(m.Part(q.Seq), q.Body) {
					t.Fatalf("%s: Part(%d) = %q", name, q.Seq, m.Part(q.Seq))
				}
			}
			if m.Part(0) != nil || m.Part(6) != nil {
				t.Fatalf("%s: Part out of range returned data", name)
			}
		}
		st := r.Stats()
		if st.Completed != 1 || st.Parts != 5 || st.Sets != 0 || st.Bytes != 0 || len(log.reasons) != 0 {
			t.Fatalf("%s: stats %+v drops %v", name, st, log.reasons)
		}
	}
}

func TestReassembleDuplicatesAndMismatch(t *testing.T) {
	r := New[addrKey](Config{}, nil)
	k := key("a", "b")
	add := func(s Segment, body string, wantErr error, wantDone bool) Message[addrKey] {
		t.Helper()
		m, done, err := r.Add(t0, k, s, []byte(body))
		if !errors.Is(err, wantErr) || done != wantDone {
			t.Fatalf("Add %+v %q: done=%v err=%v, want %v %v", s, body, done, err, wantDone, wantErr)
		}
		return m
	}
	add(Segment{5, 3, 1}, "one-", nil, false)
	add(Segment{5, 3, 1}, "ONE-", ErrDuplicate, false)
	add(Segment{5, 4, 2}, "two-", ErrTotalMismatch, false)
	add(Segment{5, 3, 3}, "three", nil, false)
	add(Segment{5, 3, 3}, "THREE", ErrDuplicate, false)
	add(Segment{5, 3, 0}, "x", ErrSeqZero, false)
	add(Segment{5, 0, 1}, "x", ErrTotalZero, false)
	add(Segment{5, 3, 4}, "x", ErrSeqBeyondTotal, false)
	m := add(Segment{5, 3, 2}, "two-", nil, true)
	if string(m.Body) != "one-two-three" {
		t.Fatalf("body %q: first copy must win", m.Body)
	}
	st := r.Stats()
	if st.Duplicates != 2 || st.Mismatched != 1 || st.Invalid != 3 || st.Completed != 1 || st.Parts != 3 {
		t.Fatalf("stats %+v", st)
	}
	// A single-part message needs no buffering and comes straight back.
	m = add(Segment{9, 1, 1}, "short", nil, true)
	if string(m.Body) != "short" || string(m.Part(1)) != "short" || m.Total != 1 {
		t.Fatalf("single: %+v", m)
	}
}

func TestReassembleKeysSeparate(t *testing.T) {
	r := New[addrKey](Config{}, nil)
	a, b := key("a", "x"), key("b", "x")
	steps := []struct {
		k    addrKey
		s    Segment
		body string
		done string
	}{
		{a, Segment{1, 2, 1}, "a1", ""},
		{b, Segment{1, 2, 2}, "b2", ""},
		{a, Segment{2, 2, 2}, "A2", ""}, // same key, other ref
		{b, Segment{1, 2, 1}, "b1", "b1b2"},
		{a, Segment{2, 2, 1}, "A1", "A1A2"},
		{a, Segment{1, 2, 2}, "a2", "a1a2"},
	}
	for i, st := range steps {
		m, done, err := r.Add(t0, st.k, st.s, []byte(st.body))
		if err != nil || done != (st.done != "") || (done && string(m.Body) != st.done) {
			t.Fatalf("step %d: %q %v %v", i, m.Body, done, err)
		}
	}
}

func TestReassembleTimeout(t *testing.T) {
	var log dropLog
	r := New(Config{Timeout: time.Minute}, log.fn)
	k := key("a", "b")
	r.Add(t0, k, Segment{1, 3, 1}, []byte("p1"))
	r.Add(t0.Add(10*time.Second), k, Segment{1, 3, 2}, []byte("p2"))
	r.Add(t0.Add(30*time.Second), key("c", "d"), Segment{4, 2, 2}, []byte("other"))
	if n := r.Expire(t0.Add(time.Minute - time.Nanosecond)); n != 0 {
		t.Fatalf("expired %d before the deadline", n)
	}
	if n := r.Expire(t0.Add(time.Minute)); n != 1 {
		t.Fatalf("expired %d at the deadline, want 1", n)
	}
	if len(log.reasons) != 1 || log.reasons[0] != DropExpired || log.held[0] != 2 || string(log.first[0]) != "p1" {
		t.Fatalf("drop log %+v", log)
	}
	// The late third part starts a new set instead of completing.
	if _, done, err := r.Add(t0.Add(61*time.Second), k, Segment{1, 3, 3}, []byte("p3")); done || err != nil {
		t.Fatalf("late part: done=%v err=%v", done, err)
	}
	// Add drops a late set itself, even if Expire was not called.
	if _, done, err := r.Add(t0.Add(91*time.Second), key("c", "d"), Segment{4, 2, 1}, []byte("x")); done || err != nil {
		t.Fatalf("part after deadline: done=%v err=%v", done, err)
	}
	st := r.Stats()
	if st.Expired != 2 || st.LostParts != 3 || st.Sets != 2 || len(log.reasons) != 2 {
		t.Fatalf("stats %+v drops %v", st, log.reasons)
	}
	if n := r.Expire(t0.Add(time.Hour)); n != 2 || r.Len() != 0 || r.Bytes() != 0 {
		t.Fatalf("final expire %d, left %d sets %d bytes", n, r.Len(), r.Bytes())
	}
}

func TestReassembleMemoryBound(t *testing.T) {
	var log dropLog
	r := New(Config{MaxBytes: 1000, MaxSets: 3}, log.fn)
	add := func(k addrKey, s Segment, n int) error {
		_, _, err := r.Add(t0, k, s, make([]byte, n))
		if r.Bytes() > 1000 {
			t.Fatalf("held %d bytes > bound", r.Bytes())
		}
		return err
	}
	a, b, c, d := key("a", "z"), key("b", "z"), key("c", "z"), key("d", "z")
	add(a, Segment{1, 2, 1}, 400)
	add(b, Segment{1, 2, 1}, 400)
	if err := add(c, Segment{1, 2, 1}, 300); err != nil { // evicts a (oldest)
		t.Fatal(err)
	}
	if len(log.reasons) != 1 || log.reasons[0] != DropEvictedBytes || log.held[0] != 1 {
		t.Fatalf("bytes eviction: %+v", log)
	}
	add(d, Segment{1, 2, 1}, 10)
	add(a, Segment{1, 2, 2}, 10) // 4th set with MaxSets 3: evicts b
	if len(log.reasons) != 2 || log.reasons[1] != DropEvictedSets {
		t.Fatalf("sets eviction: %+v", log.reasons)
	}
	// c grows past the bound on its own: others go first, then c itself.
	if err := add(c, Segment{1, 2, 2}, 800); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized set: %v", err)
	}
	if err := add(a, Segment{7, 2, 1}, 1001); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized part: %v", err)
	}
	st := r.Stats()
	if st.EvictedBytes != 3 || st.EvictedSets != 1 || st.TooLarge != 2 || st.Sets != 0 || st.Bytes != 0 {
		t.Fatalf("stats %+v reasons %v", st, log.reasons)
	}
	for _, why := range []DropReason{DropExpired, DropEvictedSets, DropEvictedBytes, DropTooLarge, 0} {
		if why.String() == "" {
			t.Fatal("empty reason name")
		}
	}
}

// TestReassembleChurn interleaves many messages through a small index to
// exercise probing and backward-shift deletion.
func TestReassembleChurn(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := New[addrKey](Config{MaxSets: 8, Timeout: time.Hour}, func(d *Dropped[addrKey]) {
		t.Fatalf("unexpected drop %v", d.Reason)
	})
	type pending struct {
		k     addrKey
		parts []Part
		want  []byte
	}
	var live []pending
	done := 0
	for round := 0; round < 3000; round++ {
		if len(live) < 8 && rng.IntN(3) == 0 {
			payload := text(161+rng.IntN(600), byte(round))
			ref := uint16(rng.IntN(4))
			k := key(fmt.Sprint(rng.IntN(6)), "x")
			dup := false
			for _, p := range live {
				dup = dup || (p.k == k && p.parts[0].Ref == ref)
			}
			if !dup {
				parts := mustSplit(t, payload, GSM7, UDH16, ref)
				rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
				live = append(live, pending{k, parts, payload})
			}
		}
		if len(live) == 0 {
			continue
		}
		i := rng.IntN(len(live))
		p := &live[i]
		m, fin, err := r.Add(t0, p.k, p.parts[0].Segment, p.parts[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		p.parts = p.parts[1:]
		if fin != (len(p.parts) == 0) {
			t.Fatalf("round %d: done=%v with %d parts left", round, fin, len(p.parts))
		}
		if fin {
			if !bytes.Equal(m.Body, p.want) {
				t.Fatalf("round %d: wrong body", round)
			}
			live = append(live[:i], live[i+1:]...)
			done++
		}
	}
	if done < 100 {
		t.Fatalf("only %d messages completed", done)
	}
}
