package msg

import "testing"

// bankedGen returns a generator whose clock is hours ahead of its slots, so
// the gate never waits: the cost of an id in normal operation.
func bankedGen(b *testing.B) *IDGen {
	clk := &fakeIDClock{wall: fakeStart}
	g, err := newIDGen(1, 0, clk)
	if err != nil {
		b.Fatal(err)
	}
	clk.advance(10_000_000)
	return g
}

func BenchmarkIDGenAppend(b *testing.B) {
	g := bankedGen(b)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Append(buf[:0])
	}
}

func BenchmarkIDGenAppendParallel(b *testing.B) {
	g := bankedGen(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		buf := make([]byte, 0, 64)
		for pb.Next() {
			buf = g.Append(buf[:0])
		}
	})
}

// BenchmarkIDGenAtTheGate uses a fresh generator on the real clock with no
// slots banked: it runs at the gate's cap of 2048 ids per millisecond
// (about 488 ns/op), the most one node can issue sustained.
func BenchmarkIDGenAtTheGate(b *testing.B) {
	g, err := NewIDGen(1)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = g.Append(buf[:0])
	}
}

func BenchmarkParseID(b *testing.B) {
	text := []byte("0123456789abcdef")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseID(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIDAppendHex is the id's text form as the engine writes it into
// submit_sm_resp and the simulator passes it as its upstream id.
func BenchmarkIDAppendHex(b *testing.B) {
	buf := make([]byte, 0, 64)
	id := ID(0x0123456789abcdef)
	b.ReportAllocs()
	for b.Loop() {
		buf = id.AppendHex(buf[:0])
		id += 0x1001
	}
}
