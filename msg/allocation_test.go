//go:build !race

package msg

import "testing"

func TestIDAllocations(t *testing.T) {
	g, err := NewIDGen(1)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 64)
	var id ID
	checks := map[string]func(){
		"Append":        func() { buf = g.Append(buf[:0]) },
		"AppendDecimal": func() { buf = g.AppendDecimal(buf[:0]) },
		"Next":          func() { id = g.Next() },
		"ParseID":       func() { id, _ = ParseID(buf[:16]) },
		"ParseDecimal":  func() { id, _ = ParseDecimalID(buf[:10]) },
	}
	kept, err := NewIDGen(2)
	if err != nil {
		t.Fatal(err)
	}
	var floor uint64
	kept.KeepFloor(2, func(f uint64) { floor = f })
	checks["Next with KeepFloor"] = func() { id = kept.Next() }
	for name, f := range checks {
		if n := testing.AllocsPerRun(1000, f); n != 0 {
			t.Errorf("%s allocates %.1f per call", name, n)
		}
	}
	_, _ = id, floor
}

func TestTextAllocations(t *testing.T) {
	m := &Message{ESMClass: esmUDHI, TLVs: []byte{0x04, 0x24, 0x00, 0x05, 0x02, 0x70, 0x00, 'o', 'k'}}
	if a := testing.AllocsPerRun(100, func() {
		if string(m.Text()) != "ok" {
			t.Fatal("Text")
		}
	}); a != 0 {
		t.Errorf("Text: %v allocs, want 0", a)
	}
}
