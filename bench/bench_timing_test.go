package bench

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

// BenchmarkWindowRound is the client's whole per-message work at window
// 100: queue 100 pre-encoded submit_sm, then settle their 100
// submit_sm_resp (window, histogram, counters). Building the responses is
// part of the loop, so the figure is an upper bound per message.
func BenchmarkWindowRound(b *testing.B) {
	s := testSessionNoAlloc(b, Config{Addr: "x", Window: 100, Count: 1 << 62})
	a := &answerer{}
	b.ReportAllocs()
	b.SetBytes(int64(100 * len(s.plan.tpl[0].frame)))
	for b.Loop() {
		s.fill(s.now())
		a.answerWindow(b, s, false)
		if err := s.consume(s.now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendPreEncoded is one submit_sm the way the session sends it:
// copy the template, patch the sequence number.
func BenchmarkSendPreEncoded(b *testing.B) {
	s := testSessionNoAlloc(b, Config{Addr: "x", Window: 1, Count: 1 << 62})
	b.ReportAllocs()
	b.SetBytes(int64(len(s.plan.tpl[0].frame)))
	for b.Loop() {
		s.send(0)
		s.wbuf = s.wbuf[:0]
		s.win.take(s.win.seq[0])
	}
}

// BenchmarkSendEncodeEach is the baseline: encode every submit_sm with the
// codec from its fields, as a client without templates would.
func BenchmarkSendEncodeEach(b *testing.B) {
	sm := codec.SM{SourceAddrTON: 5, SourceAddr: []byte("smppbench"), DestAddrTON: 1, DestAddrNPI: 1,
		DestinationAddr: []byte("491701234567"), ShortMessage: []byte(gsm7Text)}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	b.SetBytes(int64(len(gsm7Text) + 50))
	seq := uint32(0)
	for b.Loop() {
		seq++
		var err error
		if buf, err = sm.Append(buf[:0], codec.Header{CommandID: codec.SubmitSMID, Sequence: seq}); err != nil {
			b.Fatal(err)
		}
	}
}
