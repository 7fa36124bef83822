package concat

import (
	"testing"
	"time"
)

var sinkInt int

func BenchmarkParseUDH(b *testing.B) {
	p := unhex(b, "0B 0504 0B84 23F0 0003 07 02 01 414243")
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		h, body, err := ParseUDH(p)
		if err != nil {
			b.Fatal(err)
		}
		sinkInt += len(body) + int(h.Concat.Seq)
	}
}

func benchSplit(b *testing.B, payload []byte, a Alphabet, m Method) {
	dst := make([]Part, 0, MaxParts)
	buf := make([]byte, 0, MaxParts*Concat16UDHLen)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		parts, _, err := Split(dst[:0], buf[:0], payload, a, m, 42)
		if err != nil {
			b.Fatal(err)
		}
		sinkInt += len(parts)
	}
}

func BenchmarkSplitGSM7_1000(b *testing.B) { benchSplit(b, text(1000, 0), GSM7, UDH8) }
func BenchmarkSplitUCS2_1000(b *testing.B) { benchSplit(b, ucs2(500, 66, 200), UCS2, UDH16) }

// benchReassemble feeds whole messages of 7 parts through one Reassembler
// and reports per-part cost (b.N counts parts).
func benchReassemble(b *testing.B, order []int) {
	r := New[addrKey](Config{}, nil)
	parts := mustSplit(b, text(1000, 1), GSM7, UDH8, 9)
	k := key("447700900001", "1234")
	b.ReportAllocs()
	b.SetBytes(1000 / 7)
	i := 0
	for b.Loop() {
		p := parts[order[i]]
		if _, _, err := r.Add(t0, k, p.Segment, p.Body); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(order) {
			i = 0
		}
	}
}

func BenchmarkReassembleInOrder(b *testing.B)  { benchReassemble(b, []int{0, 1, 2, 3, 4, 5, 6}) }
func BenchmarkReassembleShuffled(b *testing.B) { benchReassemble(b, []int{3, 0, 6, 1, 5, 2, 4}) }

// BenchmarkReassembleManySets keeps 1000 messages open at once (a busy
// SMSC), so lookups run against a populated index.
func BenchmarkReassembleManySets(b *testing.B) {
	const open = 1000
	r := New[addrKey](Config{MaxSets: 2 * open, Timeout: time.Hour}, nil)
	parts := mustSplit(b, text(1000, 1), GSM7, UDH16, 0)
	keys := make([]addrKey, open)
	for i := range keys {
		keys[i] = key(string(rune(0x100+i)), "dest")
	}
	b.ReportAllocs()
	b.SetBytes(1000 / 7)
	n := 0
	for b.Loop() {
		p := parts[(n/open)%len(parts)]
		if _, _, err := r.Add(t0, keys[n%open], p.Segment, p.Body); err != nil {
			b.Fatal(err)
		}
		n++
	}
}
