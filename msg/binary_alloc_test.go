//go:build !race

package msg

import "testing"

func TestBinaryAllocations(t *testing.T) {
	m := NewMessage()
	defer m.Release()
	sampleMessage(m)
	buf := make([]byte, 0, 512)
	back := NewMessage()
	defer back.Release()
	var err error
	if n := testing.AllocsPerRun(1000, func() { buf, err = m.AppendBinary(buf[:0]) }); n != 0 {
		t.Errorf("AppendBinary into a reused buffer allocates %.1f per call", n)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Decoding the same user's messages into a reused Message copies into
	// its buffers and keeps its strings.
	if n := testing.AllocsPerRun(1000, func() { err = back.UnmarshalBinary(buf) }); n != 0 {
		t.Errorf("UnmarshalBinary into a reused Message allocates %.1f per call", n)
	}
	if err != nil {
		t.Fatal(err)
	}
}
