package engine

import (
	"encoding/binary"
	"testing"

	"github.com/smppd/smppd/codec"
)

// BenchmarkCountOut is flush's count of a batch of 64 submit_sm_resp frames
// (17-octet bodies) on one loop's table: per op, one PDU.
func BenchmarkCountOut(b *testing.B) {
	const frames, flen = 64, codec.HeaderLen + 17
	out := make([]byte, 0, frames*flen)
	for i := range frames {
		var f [flen]byte
		binary.BigEndian.PutUint32(f[0:], flen)
		binary.BigEndian.PutUint32(f[4:], uint32(codec.SubmitSMID.Response()))
		binary.BigEndian.PutUint32(f[12:], uint32(i+1))
		out = append(out, f[:]...)
	}
	var p pduCounters
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += frames {
		p.countOut(out)
	}
	if n := p.countOut(out); n != frames {
		b.Fatalf("counted %d frames, want %d", n, frames)
	}
}
