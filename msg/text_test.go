package msg

import "testing"

func TestFindTLV(t *testing.T) {
	region := []byte{0x02, 0x04, 0x00, 0x02, 0x00, 0x07, 0x04, 0x24, 0x00, 0x03, 'a', 'b', 'c'}
	f := func(b []byte, tag uint16, want string, ok bool) {
		t.Helper()
		v, got := FindTLV(b, tag)
		if got != ok || string(v) != want {
			t.Errorf("FindTLV(% x, %#04x) = %q %v, want %q %v", b, tag, v, got, want, ok)
		}
	}
	f(region, TagMessagePayload, "abc", true)
	f(region, 0x0204, "\x00\x07", true)
	f(region, 0x0201, "", false)
	f(region[:12], TagMessagePayload, "", false) // truncated value
	f(region[:3], 0x0204, "", false)             // truncated header
	f(nil, TagMessagePayload, "", false)
	if v, _ := FindTLV(region, TagMessagePayload); cap(v) != len(v) {
		t.Error("the view's capacity reaches past its value: an append would overwrite the region")
	}
}

func TestBodyAndText(t *testing.T) {
	f := func(name string, esm byte, sm, tlvs []byte, body, text string) {
		t.Helper()
		m := &Message{ESMClass: esm, ShortMessage: sm, TLVs: tlvs}
		if got := string(m.Body()); got != body {
			t.Errorf("%s: Body %q, want %q", name, got, body)
		}
		if got := string(m.Text()); got != text {
			t.Errorf("%s: Text %q, want %q", name, got, text)
		}
	}
	payload := []byte{0x04, 0x24, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'}
	concat := []byte{0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 'h', 'i'} // UDHL 5, IE 00 (8-bit concat), part 1 of 2
	f("short message", 0, []byte("hi"), nil, "hi", "hi")
	f("payload", 0, nil, payload, "hello", "hello")
	f("short message wins", 0, []byte("sm"), payload, "sm", "sm")
	f("udh skipped", esmUDHI, concat, nil, string(concat), "hi")
	f("udh in the payload", esmUDHI, nil, append([]byte{0x04, 0x24, 0x00, 0x08}, concat...), string(concat), "hi")
	f("udh bit without a header", esmUDHI, []byte{0x09, 'x'}, nil, "\x09x", "\x09x")
	f("ie overflowing its header", esmUDHI, []byte{0x02, 0x00, 0x03, 'x'}, nil, "\x02\x00\x03x", "\x02\x00\x03x")
	f("header only", esmUDHI, []byte{0x00}, nil, "\x00", "")
	f("no udh bit", 0, concat, nil, string(concat), string(concat))
	f("empty", esmUDHI, nil, nil, "", "")
}
