package codec

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func fuzzSeeds(f *testing.F) {
	for _, fr := range fxFrames() {
		f.Add(fr)
	}
	s := fxSMParts()
	s.tail = fxTLV(TagMessagePayload, []byte("payload"))
	s.sm = nil
	f.Add(fxFrame(SubmitSMID, 0, 1, s.body()))
	f.Add(fxFrame(0x00000104, 0, 1, []byte("vendor")))
	f.Add(fxFrame(SubmitSMRespID, StatusThrottled, 1))
}

// FuzzDecode: whole frames through PDU.Decode never panic; an accepted frame
// re-encodes, decodes again to the same fields, re-encodes to the same
// bytes, and its decode allocates nothing.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p PDU
		_ = p.Decode(data) // as given: must not panic
		if len(data) < HeaderLen {
			return
		}
		// Make command_length consistent so the fuzzer reaches the bodies.
		frame := append([]byte(nil), data...)
		binary.BigEndian.PutUint32(frame, uint32(len(frame)))
		keep := append([]byte(nil), frame...)
		if err := p.Decode(frame); err != nil {
			if StatusOf(err) == StatusOK || StatusOf(err) == StatusSysErr {
				t.Fatalf("error %v maps to %v", err, StatusOf(err))
			}
			return
		}
		if !bytes.Equal(frame, keep) {
			t.Fatal("Decode modified its input")
		}
		out, err := p.Append(nil)
		if err != nil {
			t.Fatalf("accepted %v does not re-encode: %v\n%x", p.Header.CommandID, err, frame)
		}
		var q PDU
		if err := q.Decode(out); err != nil {
			t.Fatalf("re-encoded %v does not decode: %v\n%x", p.Header.CommandID, err, out)
		}
		if d := eqPDU(&p, &q); d != "" {
			t.Fatalf("%v: fields differ after re-encoding: %s\nin  %x\nout %x", p.Header.CommandID, d, frame, out)
		}
		again, err := q.Append(nil)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%v: re-encoding is not stable: %v", p.Header.CommandID, err)
		}
		if !codecRace {
			var r PDU
			if a := testing.AllocsPerRun(5, func() { _ = r.Decode(frame) }); a != 0 {
				t.Fatalf("%v: decode of accepted input allocates %.1f times", p.Header.CommandID, a)
			}
		}
	})
}

// splitFrames runs a resumable reader over chunks and returns the frames it
// split off, the unconsumed octets and the first framing error (after which
// a reader stops).
func splitFrames(chunks ...[]byte) (frames [][]byte, rest []byte, err error) {
	var buf []byte
	for ci, c := range chunks {
		buf = append(buf, c...)
		whole, _, ferr := Frames(buf, 4096)
		for r := buf[:whole]; len(r) > 0; {
			n, _ := FrameLen(r, 4096)
			frames = append(frames, append([]byte(nil), r[:n]...))
			r = r[n:]
		}
		buf = append(buf[:0], buf[whole:]...)
		if ferr != nil { // the connection closes: report every octet not framed
			for _, later := range chunks[ci+1:] {
				buf = append(buf, later...)
			}
			return frames, buf, ferr
		}
	}
	return frames, buf, nil
}

// FuzzFrames: an arbitrary stream cut in two must split exactly like the
// uncut stream.
func FuzzFrames(f *testing.F) {
	stream, _ := fxStream()
	f.Add(stream, uint16(100))
	for _, fr := range fxFrames() {
		f.Add(append(append([]byte(nil), fr...), fr...), uint16(len(fr)/2))
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\n"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		k := int(cut)
		if k > len(data) {
			k = len(data)
		}
		wantF, wantRest, wantErr := splitFrames(data)
		gotF, gotRest, gotErr := splitFrames(data[:k], data[k:])
		if gotErr != wantErr || len(gotF) != len(wantF) || !bytes.Equal(gotRest, wantRest) {
			t.Fatalf("cut %d: %d frames rest %d err %v; uncut %d frames rest %d err %v",
				k, len(gotF), len(gotRest), gotErr, len(wantF), len(wantRest), wantErr)
		}
		total := len(wantRest)
		for i := range wantF {
			if !bytes.Equal(gotF[i], wantF[i]) {
				t.Fatalf("cut %d: frame %d differs", k, i)
			}
			total += len(wantF[i])
		}
		if wantErr == nil && total != len(data) {
			t.Fatalf("frames + rest = %d octets, stream %d", total, len(data))
		}
		whole, need, err := Frames(data, 4096)
		if err == nil && whole < len(data) && need <= 0 {
			t.Fatalf("partial PDU with need %d", need)
		}
	})
}
