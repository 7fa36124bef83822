package codec

import (
	"bytes"
	"testing"
)

func TestFrameLen(t *testing.T) {
	f := func(name string, b []byte, max uint32, wantN int, wantErr error) {
		t.Helper()
		n, err := FrameLen(b, max)
		if n != wantN || err != wantErr {
			t.Errorf("%s: FrameLen = %d, %v; want %d, %v", name, n, err, wantN, wantErr)
		}
	}
	f("empty", nil, 0, 0, nil)
	f("3 octets", []byte{0, 0, 0}, 0, 0, nil)
	f("exactly 4 octets, length 16", []byte{0, 0, 0, 16}, 0, 16, nil)
	f("length 0", []byte{0, 0, 0, 0}, 0, 0, ErrCmdLenTooSmall)
	f("length 15", []byte{0, 0, 0, 15, 0xAA}, 0, 0, ErrCmdLenTooSmall)
	f("length 0xFFFFFFFF (negative as int32)", []byte{0xFF, 0xFF, 0xFF, 0xFF}, 0, 0, ErrCmdLenTooLarge)
	f("HTTP", []byte("HTTP/1.1"), 0, 0, ErrCmdLenTooLarge)
	f("at the default maximum", []byte{0, 1, 0x20, 0}, 0, DefaultMaxPDULen, nil)
	f("one above the default maximum", []byte{0, 1, 0x20, 1}, 0, 0, ErrCmdLenTooLarge)
	f("custom maximum 4096", []byte{0, 0, 0x10, 0}, 4096, 4096, nil)
	f("above custom maximum", []byte{0, 0, 0x10, 1}, 4096, 0, ErrCmdLenTooLarge)
	if !ErrCmdLenTooSmall.Fatal || !ErrCmdLenTooLarge.Fatal || ErrCmdLenTooLarge.Status != StatusInvCmdLen {
		t.Fatal("framing errors must be fatal ESME_RINVCMDLEN")
	}
	if _, err := ParseHeader(make([]byte, 15)); err != ErrShortHeader {
		t.Fatalf("ParseHeader(15 octets) = %v", err)
	}
	h, err := ParseHeader([]byte{0, 0, 0, 0x2F, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1})
	if err != nil || h != (Header{Length: 47, CommandID: BindTransmitterID, Sequence: 1}) {
		t.Fatalf("spec example header: %+v %v", h, err)
	}
}

func TestFrames(t *testing.T) {
	el := fxFrame(EnquireLinkID, 0, 1)
	sm := fxFrames()[len(fxFrames())-1]
	two := append(append([]byte(nil), el...), sm...)
	f := func(name string, b []byte, wantWhole, wantNeed int, wantErr error) {
		t.Helper()
		w, n, err := Frames(b, 0)
		if w != wantWhole || n != wantNeed || err != wantErr {
			t.Errorf("%s: Frames = %d, %d, %v; want %d, %d, %v", name, w, n, err, wantWhole, wantNeed, wantErr)
		}
	}
	f("empty", nil, 0, 0, nil)
	f("1 octet", el[:1], 0, 3, nil)
	f("4 octets", el[:4], 0, 12, nil)
	f("15 octets", el[:15], 0, 1, nil)
	f("one PDU", el, 16, 0, nil)
	f("two PDUs in one read", two, len(two), 0, nil)
	f("second PDU partial", two[:20], 16, len(sm)-4, nil)
	f("second PDU header partial", two[:18], 16, 2, nil)
	bad := append(append([]byte(nil), el...), 0, 0, 0, 3, 1, 2)
	f("bad length after a good PDU", bad, 16, 0, ErrCmdLenTooSmall)
}

// fxStream is every fixture frame with an unknown command id (sane length)
// between each pair: the reader must skip the unknown ones and stay in sync.
func fxStream() (stream []byte, frames [][]byte) {
	unknown := fxFrame(0x00000104, 0, 99, []byte("vendor extension body"))
	for _, f := range fxFrames() {
		frames = append(frames, f, unknown)
		stream = append(stream, f...)
		stream = append(stream, unknown...)
	}
	return stream, frames
}

// consume runs a reader over chunks as a network would deliver them and
// returns the frames it split off, checking each decodes as expected.
func consume(t *testing.T, chunks [][]byte) [][]byte {
	t.Helper()
	var buf []byte
	var got [][]byte
	var p PDU
	for _, c := range chunks {
		buf = append(buf, c...)
		whole, need, err := Frames(buf, 0)
		if err != nil {
			t.Fatalf("Frames: %v", err)
		}
		for rest := buf[:whole]; len(rest) > 0; {
			n, err := FrameLen(rest, 0)
			if err != nil || n == 0 {
				t.Fatalf("FrameLen inside whole: %d %v", n, err)
			}
			frame := rest[:n]
			err = p.Decode(frame)
			if p.Header.CommandID.Known() && err != nil {
				t.Fatalf("%v: %v", p.Header.CommandID, err)
			}
			if !p.Header.CommandID.Known() && err != ErrUnknownCommand {
				t.Fatalf("unknown id decoded as %v", err)
			}
			got = append(got, append([]byte(nil), frame...))
			rest = rest[n:]
		}
		buf = append(buf[:0], buf[whole:]...)
		if (len(buf) == 0) != (need == 0) {
			t.Fatalf("need %d with %d octets pending", need, len(buf))
		}
	}
	if len(buf) != 0 {
		t.Fatalf("%d octets left over", len(buf))
	}
	return got
}

func TestStreamStaysInSync(t *testing.T) {
	stream, frames := fxStream()
	got := consume(t, [][]byte{stream})
	if len(got) != len(frames) {
		t.Fatalf("%d frames, want %d", len(got), len(frames))
	}
	for i := range got {
		if !bytes.Equal(got[i], frames[i]) {
			t.Fatalf("frame %d differs", i)
		}
	}
}

// Every cut point of the whole stream, and one octet at a time.
func TestStreamSplitAtEveryOffset(t *testing.T) {
	stream, frames := fxStream()
	for k := 0; k <= len(stream); k++ {
		got := consume(t, [][]byte{stream[:k], stream[k:]})
		if len(got) != len(frames) {
			t.Fatalf("cut %d: %d frames, want %d", k, len(got), len(frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) {
				t.Fatalf("cut %d: frame %d differs", k, i)
			}
		}
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	if got := consume(t, bytewise); len(got) != len(frames) {
		t.Fatalf("one octet at a time: %d frames, want %d", len(got), len(frames))
	}
	// Each single frame cut at every offset decodes to the same PDU.
	for _, f := range fxFrames() {
		var want PDU
		if err := want.Decode(f); err != nil {
			t.Fatal(err)
		}
		for k := 0; k <= len(f); k++ {
			got := consume(t, [][]byte{f[:k], f[k:]})
			var p PDU
			if len(got) != 1 || p.Decode(got[0]) != nil || eqPDU(&want, &p) != "" {
				t.Fatalf("%v cut at %d", want.Header.CommandID, k)
			}
		}
	}
}
