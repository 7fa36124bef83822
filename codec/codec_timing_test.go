package codec

import "testing"

var benchSink int

func benchDecode(b *testing.B, id CommandID) {
	frame := fxFrameOf(b, id)
	var p PDU
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		if err := p.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
	benchSink += int(p.Header.Length)
}

func benchEncode(b *testing.B, id CommandID) {
	frame := fxFrameOf(b, id)
	var p PDU
	if err := p.Decode(frame); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, len(frame))
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		out, err := p.Append(dst[:0])
		if err != nil {
			b.Fatal(err)
		}
		benchSink += len(out)
	}
}

// Direct per-type entry points for the hot pair (what the engine calls).
func BenchmarkDecodeSubmitSMBody(b *testing.B) {
	body := fxFrameOf(b, SubmitSMID)[HeaderLen:]
	var p SM
	b.ReportAllocs()
	b.SetBytes(int64(len(body) + HeaderLen))
	for b.Loop() {
		if err := p.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
	benchSink += len(p.ShortMessage)
}

// The engine's own pair: each submit_sm body decoded into the loop's SM
// after a Reset.
func BenchmarkResetDecodeSubmitSMBody(b *testing.B) {
	body := fxFrameOf(b, SubmitSMID)[HeaderLen:]
	var p SM
	b.ReportAllocs()
	b.SetBytes(int64(len(body) + HeaderLen))
	for b.Loop() {
		p.Reset()
		if err := p.Decode(body); err != nil {
			b.Fatal(err)
		}
	}
	benchSink += len(p.ShortMessage)
}

func BenchmarkEncodeSubmitSMBody(b *testing.B) {
	var p SM
	fxSubmitSM(&p)
	dst := make([]byte, 0, 512)
	h := Header{CommandID: SubmitSMID, Sequence: 1}
	out, _ := p.Append(nil, h)
	b.ReportAllocs()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		out, err := p.Append(dst[:0], h)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += len(out)
	}
}

func BenchmarkDecodeSubmitSM(b *testing.B)     { benchDecode(b, SubmitSMID) }
func BenchmarkDecodeDeliverSM(b *testing.B)    { benchDecode(b, DeliverSMID) }
func BenchmarkDecodeSubmitSMResp(b *testing.B) { benchDecode(b, SubmitSMRespID) }
func BenchmarkDecodeDeliverSMResp(b *testing.B) {
	benchDecode(b, DeliverSMRespID)
}
func BenchmarkDecodeEnquireLink(b *testing.B)  { benchDecode(b, EnquireLinkID) }
func BenchmarkDecodeSubmitMulti(b *testing.B)  { benchDecode(b, SubmitMultiID) }
func BenchmarkEncodeSubmitSM(b *testing.B)     { benchEncode(b, SubmitSMID) }
func BenchmarkEncodeDeliverSM(b *testing.B)    { benchEncode(b, DeliverSMID) }
func BenchmarkEncodeSubmitSMResp(b *testing.B) { benchEncode(b, SubmitSMRespID) }
func BenchmarkEncodeDeliverSMResp(b *testing.B) {
	benchEncode(b, DeliverSMRespID)
}
func BenchmarkEncodeEnquireLink(b *testing.B) { benchEncode(b, EnquireLinkID) }

// BenchmarkFrames walks a buffer of many PDUs, as OnTraffic would.
func BenchmarkFrames(b *testing.B) {
	stream, _ := fxStream()
	b.ReportAllocs()
	b.SetBytes(int64(len(stream)))
	for b.Loop() {
		w, _, err := Frames(stream, 0)
		if err != nil {
			b.Fatal(err)
		}
		benchSink += w
	}
}
