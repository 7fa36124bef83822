package msg

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeIDClock moves only when told to or when slept on; wallLag makes the
// wall clock run behind the monotonic one.
type fakeIDClock struct {
	mu      sync.Mutex
	wall    int64 // Unix ms
	mono    int64
	wallLag int64
	sleeps  int
}

func (c *fakeIDClock) wallMs() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.wall - c.wallLag }
func (c *fakeIDClock) monoMs() int64 { c.mu.Lock(); defer c.mu.Unlock(); return c.mono }
func (c *fakeIDClock) sleep(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ms := max(int64(d/time.Millisecond), 1) // the fake's resolution is 1 ms
	c.wall += ms
	c.mono += ms
	c.sleeps++
}

func (c *fakeIDClock) advance(ms int64) { c.mu.Lock(); c.wall += ms; c.mono += ms; c.mu.Unlock() }

const fakeStart = idEpochMs + 40_000_000_000 // some time in 2026

func TestIDFormat(t *testing.T) {
	before := time.Now()
	g, err := NewIDGen(2748) // 0xabc
	if err != nil {
		t.Fatal(err)
	}
	id := g.Next()
	after := time.Now()
	text := id.AppendHex(nil)
	if len(text) != HexLen || !bytes.HasSuffix(text, []byte("abc")) {
		t.Fatalf("hex %q", text)
	}
	for _, c := range text {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			t.Fatalf("hex %q holds %q", text, c)
		}
	}
	if id.Node() != 2748 {
		t.Errorf("Node() = %d", id.Node())
	}
	// The first slot is the millisecond after creation, never after issue.
	if sl := id.Slot(); sl.Before(before.Truncate(time.Millisecond)) || sl.After(after) {
		t.Errorf("Slot() %v outside [%v, %v]", sl, before, after)
	}
	if got, err := ParseID(text); err != nil || got != id {
		t.Errorf("ParseID(%q) = %v, %v", text, got, err)
	}
	if got, err := ParseID(bytes.ToUpper(text)); err != nil || got != id {
		t.Errorf("ParseID upper = %v, %v", got, err)
	}
	dec := id.AppendDecimal(nil)
	if len(dec) > 20 {
		t.Errorf("decimal %q longer than 20", dec)
	}
	if got, err := ParseDecimalID(dec); err != nil || got != id {
		t.Errorf("ParseDecimalID(%q) = %v, %v", dec, got, err)
	}
	if id.String() != string(text) {
		t.Errorf("String() = %q", id.String())
	}
	// Append and AppendDecimal issue fresh ids.
	a, b := g.Append(nil), g.AppendDecimal(nil)
	pa, _ := ParseID(a)
	pb, _ := ParseDecimalID(b)
	if pa <= id || pb <= pa {
		t.Errorf("ids not increasing: %v %v %v", id, pa, pb)
	}
}

func TestParseIDRejects(t *testing.T) {
	for _, s := range []string{"", "0123456789abcde", "0123456789abcdef0", "0123456789abcdeg", "0123456789abcde "} {
		if _, err := ParseID([]byte(s)); err != ErrBadID {
			t.Errorf("ParseID(%q) err = %v", s, err)
		}
	}
	for _, s := range []string{"", "18446744073709551616", "123456789012345678901", "12a", "-1"} {
		if _, err := ParseDecimalID([]byte(s)); err != ErrBadID {
			t.Errorf("ParseDecimalID(%q) err = %v", s, err)
		}
	}
	if id, err := ParseDecimalID([]byte("18446744073709551615")); err != nil || id != 1<<64-1 {
		t.Errorf("max uint64: %v %v", id, err)
	}
}

func TestNewIDGenRejects(t *testing.T) {
	for _, n := range []int{-1, MaxNodeID + 1} {
		if _, err := NewIDGen(n); err == nil {
			t.Errorf("node %d accepted", n)
		}
	}
	if _, err := newIDGen(1, 0, &fakeIDClock{wall: 0}); err == nil {
		t.Error("a clock at 1970 accepted")
	}
	if _, err := newIDGen(1, 0, &fakeIDClock{wall: idEpochMs + 1<<41}); err == nil {
		t.Error("a clock past 2094 accepted")
	}
}

// TestIDsUniqueConcurrent: 1M ids from many goroutines, all distinct.
func TestIDsUniqueConcurrent(t *testing.T) {
	g, err := NewIDGen(7)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 16, 1_000_000 / 16
	out := make([][]ID, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]ID, each)
			for i := range ids {
				ids[i] = g.Next()
			}
			out[w] = ids
		}()
	}
	wg.Wait()
	all := slices.Concat(out...)
	slices.Sort(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("duplicate id %v", all[i])
		}
	}
	if len(all) != 1_000_000 || all[0].Node() != 7 {
		t.Fatalf("%d ids, node %d", len(all), all[0].Node())
	}
}

// TestGateKeepsSlotsBehindTheClock: a generator faster than 2048 ids/ms
// waits instead of using slots whose millisecond has not come, so every id
// has Slot <= the wall clock at its issue.
func TestGateKeepsSlotsBehindTheClock(t *testing.T) {
	clk := &fakeIDClock{wall: fakeStart}
	g, err := newIDGen(1, 0, clk)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 * 2048 {
		id := g.Next()
		slotMs := int64(id>>(seqBits+nodeBits)) + idEpochMs
		if now := clk.wallMs(); slotMs > now {
			t.Fatalf("id %d: slot %d is ahead of the clock %d", i, slotMs, now)
		}
	}
	if clk.sleeps < 5 {
		t.Errorf("only %d waits for 5 slots' worth of ids with a frozen clock", clk.sleeps)
	}
	// Idle time banks slots: after 100 ms, 100 slots go without waiting.
	clk.advance(100)
	s := clk.sleeps
	for range 100 * 2048 {
		g.Next()
	}
	if clk.sleeps != s {
		t.Errorf("waited %d times with slots banked", clk.sleeps-s)
	}
}

// TestGateIgnoresWallClockStepBack: ids are issued on event loops, so a
// wall clock stepped back an hour must not make Next wait for it to return;
// the banked slots of the monotonic clock are used without a single sleep,
// and ids keep growing.
func TestGateIgnoresWallClockStepBack(t *testing.T) {
	clk := &fakeIDClock{wall: fakeStart}
	g, err := newIDGen(1, 0, clk)
	if err != nil {
		t.Fatal(err)
	}
	clk.advance(50)
	clk.mu.Lock()
	clk.wallLag = int64(time.Hour / time.Millisecond)
	clk.mu.Unlock()
	s := clk.sleeps
	prev := g.Next()
	for range 40 * 2048 {
		id := g.Next()
		if id <= prev {
			t.Fatalf("id %v not above %v", id, prev)
		}
		prev = id
	}
	if clk.sleeps != s {
		t.Fatalf("slept %d times after the wall clock stepped back", clk.sleeps-s)
	}
}

// TestRestartDoesNotReuse: a generator created right after another one on
// the same node (same millisecond, even after the first ran at full speed)
// issues only ids above every id of the first.
func TestRestartDoesNotReuse(t *testing.T) {
	clk := &fakeIDClock{wall: fakeStart}
	g1, _ := newIDGen(5, 0, clk)
	var last ID
	for range 10 * 2048 {
		last = g1.Next()
	}
	g2, err := newIDGen(5, 0, clk) // "restarted" with no time passing
	if err != nil {
		t.Fatal(err)
	}
	if first := g2.Next(); first <= last {
		t.Fatalf("restart reuses: first %v <= last %v", first, last)
	}
	// Another node in the same millisecond never collides (node bits).
	g3, _ := newIDGen(6, 0, clk)
	if a, b := g3.Next(), g2.Next(); a.Node() == b.Node() || a == b {
		t.Fatalf("nodes collide: %v %v", a, b)
	}
}

// TestFloorSurvivesClockStepBack: a run that persisted its floor, then a
// restart whose wall clock reads an hour earlier, issues only ids above
// every id of the first run.
func TestFloorSurvivesClockStepBack(t *testing.T) {
	clk := &fakeIDClock{wall: fakeStart}
	g1, _ := newIDGen(5, 0, clk)
	var floors []uint64
	g1.KeepFloor(16, func(f uint64) { floors = append(floors, f) })
	if len(floors) != 1 {
		t.Fatalf("KeepFloor kept %d floors before the first id, want 1", len(floors))
	}
	var last ID
	for range 40 * 2048 {
		clk.advance(1)
		last = g1.Next()
		if uint64(last) >= floors[len(floors)-1] {
			t.Fatalf("id %v issued at or above the persisted floor %x", last, floors[len(floors)-1])
		}
	}
	if len(floors) < 4 || len(floors) > 6 {
		t.Errorf("%d floors kept over 40 slots with blocks of 16, want about one per 8 slots", len(floors))
	}
	for i := 1; i < len(floors); i++ {
		if floors[i] <= floors[i-1] {
			t.Fatalf("floor went down: %x after %x", floors[i], floors[i-1])
		}
	}
	clk.wall -= 3600_000 // the wall clock steps back an hour before the restart
	g2, err := newIDGen(5, floors[len(floors)-1], clk)
	if err != nil {
		t.Fatal(err)
	}
	if first := g2.Next(); first <= last || uint64(first) < floors[len(floors)-1] {
		t.Fatalf("restart above floor %x reuses: first %v, last of the earlier run %v", floors[len(floors)-1], first, last)
	}
	// Without the floor the same restart would have gone back in time.
	g3, _ := newIDGen(5, 0, clk)
	if g3.Next() > last {
		t.Fatal("test clock did not step back")
	}
	// A floor at the end of the id space is refused, not wrapped.
	if _, err := newIDGen(5, ^uint64(0), clk); err == nil {
		t.Error("a floor at the end of the id space was accepted")
	}
}

// TestKeepFloorConcurrent: ids issued from many goroutines never reach the
// floor persisted before them.
func TestKeepFloorConcurrent(t *testing.T) {
	g, err := NewIDGen(9)
	if err != nil {
		t.Fatal(err)
	}
	var kept atomic.Uint64
	g.KeepFloor(4, func(f uint64) { kept.Store(f) })
	var wg sync.WaitGroup
	var bad atomic.Uint64
	for range 8 {
		wg.Go(func() {
			for range 20000 {
				if id := g.Next(); uint64(id) >= kept.Load() {
					bad.Store(uint64(id))
				}
			}
		})
	}
	wg.Wait()
	if b := bad.Load(); b != 0 {
		t.Fatalf("id %x issued at or above the kept floor", b)
	}
}

// TestAppendHexDigits checks every nibble value in every position against
// strconv's hex, zero-padded to 16 digits, appended after what dst holds.
func TestAppendHexDigits(t *testing.T) {
	ids := []ID{0, 1, 9, 10, 15, 0xffffffffffffffff, 0x0123456789abcdef, 0xfedcba9876543210, 0x8000000000000000, 0x00000000ffffffff, 0xffffffff00000000}
	for sh := 0; sh < 64; sh += 4 {
		for d := range uint64(16) {
			ids = append(ids, ID(d<<sh), ID(d<<sh|0x5a5a5a5a5a5a5a5a&^(0xf<<sh)))
		}
	}
	for _, id := range ids {
		want := "x" + strings.Repeat("0", 16-len(strconv.FormatUint(uint64(id), 16))) + strconv.FormatUint(uint64(id), 16)
		if got := string(id.AppendHex([]byte("x"))); got != want {
			t.Fatalf("AppendHex(%#x) = %q, want %q", uint64(id), got, want)
		}
	}
}
