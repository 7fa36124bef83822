package msg

import "testing"

func TestMaskAddr(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"1234", "1234"},                     // a short code
		{"12345", "1***5"},                   // one kept each side
		{"+4917012345678", "+49********678"}, // 14 characters: 3 kept each side
		{"4917012345678", "491*******678"},   // 13
		{"ACME Shop", "ACME Shop"},           // letters stay
		{"Shop24x7SMS", "Shop**x*SMS"},
	}
	for _, c := range cases {
		if got := string(MaskAddr([]byte("x"), []byte(c.in))); got != "x"+c.want {
			t.Errorf("MaskAddr(%q) = %q, want %q", c.in, got[1:], c.want)
		}
	}
	buf := make([]byte, 0, 32)
	addr := []byte("+4917012345678")
	if n := testing.AllocsPerRun(100, func() { buf = MaskAddr(buf[:0], addr) }); n != 0 {
		t.Fatalf("MaskAddr into a buffer with room allocates %v times", n)
	}
}
