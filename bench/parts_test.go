package bench

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/smppd/smppd/codec"
)

func TestWindowSlots(t *testing.T) {
	w := newWindow(3)
	if w.full() || w.inFlight() != 0 {
		t.Fatal("new window not empty")
	}
	a, b, c := w.put(10, false), w.put(20, true), w.put(30, false)
	if !w.full() || w.inFlight() != 3 {
		t.Fatal("three puts do not fill a window of 3")
	}
	if a == b || b == c || a == c || a == 0 || c > 0x7FFFFFFF {
		t.Fatalf("sequence numbers %d %d %d", a, b, c)
	}
	// Out of order, and a stale or foreign sequence number frees nothing.
	if at, dlr, ok := w.take(b); !ok || at != 20 || !dlr {
		t.Fatalf("take(b) = %d %v %v", at, dlr, ok)
	}
	if _, _, ok := w.take(b); ok {
		t.Fatal("a response taken twice")
	}
	d := w.put(40, false)
	if d == b {
		t.Fatal("a reused slot got the old sequence number back")
	}
	for _, seq := range []uint32{0, b, b + 1<<20, 0x7FFFFFFF} {
		if _, _, ok := w.take(seq); ok && seq != a && seq != c && seq != d {
			t.Fatalf("take(%d) accepted", seq)
		}
	}
	for _, s := range []uint32{a, c, d} {
		if _, _, ok := w.take(s); !ok {
			t.Fatalf("take(%d) refused", s)
		}
	}
	if w.inFlight() != 0 {
		t.Fatal("window not empty after all responses")
	}
}

func TestWindowSequenceWraps(t *testing.T) {
	w := newWindow(4)
	w.gen = 0x7FFFFFFF>>2 - 2
	for range 20 {
		seq := w.put(1, false)
		if seq == 0 || seq > 0x7FFFFFFF {
			t.Fatalf("sequence %#x out of range", seq)
		}
		if _, _, ok := w.take(seq); !ok {
			t.Fatalf("take(%#x) refused", seq)
		}
	}
}

func TestReceiptTable(t *testing.T) {
	r := newReceipts()
	const n = 5000 // grows the shards past their first size
	for i := range n {
		if _, done := r.submitted(fmt.Appendf(nil, "id%d", i), int64(i)); done {
			t.Fatalf("id%d matched before its receipt", i)
		}
	}
	// Receipts in another order, some for ids never submitted.
	for i := n - 1; i >= 0; i -= 2 {
		at, ok := r.received(fmt.Appendf(nil, "id%d", i), 1e9)
		if !ok || at != int64(i) {
			t.Fatalf("id%d: at %d ok %v", i, at, ok)
		}
	}
	if _, ok := r.received([]byte("nobody"), 7); ok {
		t.Fatal("an unknown id matched")
	}
	// The early receipt is kept until its response comes.
	if at, done := r.submitted([]byte("nobody"), 3); !done || at != 7 {
		t.Fatalf("early receipt: at %d done %v", at, done)
	}
	if e := r.early.Load(); e != 1 {
		t.Fatalf("%d receipts counted before their response, want 1", e)
	}
	awaiting, orphans := r.counts()
	if awaiting != n/2 || orphans != 0 {
		t.Fatalf("awaiting %d orphans %d, want %d 0", awaiting, orphans, n/2)
	}
	for i := 0; i < n; i += 2 {
		if _, ok := r.received(fmt.Appendf(nil, "id%d", i), 1); !ok {
			t.Fatalf("id%d lost after deletions", i)
		}
	}
	if a, o := r.counts(); a != 0 || o != 0 {
		t.Fatalf("left: awaiting %d orphans %d", a, o)
	}
}

func TestReceiptTextID(t *testing.T) {
	f := func(text, want string) {
		t.Helper()
		if got := string(receiptTextID([]byte(text))); got != want {
			t.Errorf("receiptTextID(%q) = %q, want %q", text, got, want)
		}
	}
	f("id:123 sub:001 dlvrd:001 stat:DELIVRD", "123")
	f("ID: abc-9 stat:DELIVRD", "abc-9")
	f("stat:DELIVRD id:77", "77")
	f("msgid:5 id:6", "6")
	f("id:", "")
	f("id: ", "")
	f("id:42\x00", "42")
	f("", "")
	f("no receipt here", "")
}

func TestParseMix(t *testing.T) {
	f := func(s string, want Mix, ok bool) {
		t.Helper()
		m, err := ParseMix(s)
		if (err == nil) != ok || (ok && m != want) {
			t.Errorf("ParseMix(%q) = %v, %v", s, m, err)
		}
	}
	f("gsm7", Mix{1, 0, 0}, true)
	f("gsm7:70,ucs2:20,long:10", Mix{70, 20, 10}, true)
	f(" long , gsm7:3 ", Mix{3, 0, 1}, true)
	f("ucs2:0", Mix{}, false)
	f("gsm7:x", Mix{}, false)
	f("gsm7:-1", Mix{}, false)
	f("mms", Mix{}, false)
	f("", Mix{}, false)
}

// Every template decodes with the codec and carries what its kind promises;
// the schedule honours the weights.
func TestTemplates(t *testing.T) {
	cfg := Config{Receipts: true, SourceAddr: "src", DestAddr: "4912345"}
	plan, err := buildTemplates(&cfg, Mix{70, 20, 10})
	if err != nil {
		t.Fatal(err)
	}
	var sm codec.SM
	for i, tp := range plan.tpl {
		h, _ := codec.ParseHeader(tp.frame)
		if h.CommandID != codec.SubmitSMID || int(h.Length) != len(tp.frame) {
			t.Fatalf("template %d header %+v", i, h)
		}
		if err := sm.Decode(tp.frame[16:]); err != nil {
			t.Fatalf("template %d: %v", i, err)
		}
		if sm.RegisteredDelivery != 1 || string(sm.DestinationAddr) != "4912345" {
			t.Fatalf("template %d: %+v", i, sm)
		}
		if tp.refOff != 0 && (sm.ESMClass&codec.ESMClassUDHI == 0 || tp.frame[tp.refOff-3] != 5) {
			t.Fatalf("template %d: UDH not where refOff says", i)
		}
		switch sm.DataCoding {
		case 0:
			if len(sm.ShortMessage) != 160 && len(sm.ShortMessage) != udhLen+partText {
				t.Fatalf("template %d: %d octets", i, len(sm.ShortMessage))
			}
		case 8:
			if len(sm.ShortMessage) != 140 {
				t.Fatalf("UCS2 template: %d octets, want 140 (70 characters)", len(sm.ShortMessage))
			}
		}
	}
	var count [numKinds]int
	for i := 0; i < len(plan.sched); i++ {
		f := plan.tpl[plan.sched[i]].frame
		var s codec.SM
		_ = s.Decode(f[16:])
		switch {
		case s.ESMClass&codec.ESMClassUDHI != 0:
			count[KindLong]++
			i += 2
		case s.DataCoding == 8:
			count[KindUCS2]++
		default:
			count[KindGSM7]++
		}
	}
	if count != [numKinds]int{70, 20, 10} {
		t.Fatalf("schedule holds %v messages, want 70/20/10", count)
	}
}

// A long message's three parts share a UDH reference that changes per
// message; sequence numbers are patched per PDU.
func TestSendPatches(t *testing.T) {
	s := testSessionNoAlloc(t, Config{Addr: "x", Window: 6, Count: 100, Mix: "long"})
	s.fill(0)
	var refs, seqs []uint32
	for w := s.wbuf; len(w) > 0; {
		n := int(binary.BigEndian.Uint32(w))
		var sm codec.SM
		if err := sm.Decode(w[16:n]); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, uint32(sm.ShortMessage[3])<<8|uint32(sm.ShortMessage[5]))
		seqs = append(seqs, binary.BigEndian.Uint32(w[12:]))
		w = w[n:]
	}
	if len(refs) != 6 || refs[0]>>8 != refs[2]>>8 || refs[3]>>8 == refs[0]>>8 || refs[0]&0xFF != 1 || refs[2]&0xFF != 3 {
		t.Fatalf("ref<<8|part per PDU: %x", refs)
	}
	seen := map[uint32]bool{}
	for _, q := range seqs {
		if seen[q] {
			t.Fatalf("sequence numbers repeat: %v", seqs)
		}
		seen[q] = true
	}
}

// With Chars set, a message is that many GSM7 characters: one submit_sm up
// to 160, then parts of 153 whose UDH counts them and whose texts add up.
func TestTemplatesChars(t *testing.T) {
	for _, c := range []struct{ chars, parts, last int }{
		{10, 1, 10}, {160, 1, 160}, {161, 2, 8}, {1000, 7, 82},
	} {
		cfg := Config{Chars: c.chars, SourceAddr: "src", DestAddr: "4912345"}
		plan, err := buildTemplates(&cfg, Mix{1, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.tpl) != 2*c.parts || len(plan.sched) != 100*c.parts {
			t.Fatalf("chars %d: %d templates, %d scheduled; want %d, %d", c.chars, len(plan.tpl), len(plan.sched), 2*c.parts, 100*c.parts)
		}
		total := 0
		for i, tp := range plan.tpl[:c.parts] {
			var sm codec.SM
			if err := sm.Decode(tp.frame[16:]); err != nil {
				t.Fatalf("chars %d part %d: %v", c.chars, i+1, err)
			}
			text := sm.ShortMessage
			if c.parts > 1 {
				if tp.refOff == 0 || sm.ESMClass&codec.ESMClassUDHI == 0 || text[4] != byte(c.parts) || text[5] != byte(i+1) {
					t.Fatalf("chars %d part %d: UDH % x, refOff %d", c.chars, i+1, text[:udhLen], tp.refOff)
				}
				text = text[udhLen:]
			} else if tp.refOff != 0 || sm.ESMClass != 0 {
				t.Fatalf("chars %d: a single message with a UDH", c.chars)
			}
			if i == c.parts-1 && len(text) != c.last {
				t.Fatalf("chars %d: last part %d characters, want %d", c.chars, len(text), c.last)
			}
			total += len(text)
		}
		if total != c.chars {
			t.Fatalf("chars %d: the parts carry %d characters", c.chars, total)
		}
	}
	for _, bad := range []int{-1, MaxChars + 1} {
		cfg := Config{Chars: bad}
		cfg.Defaults()
		if cfg.Validate() == nil {
			t.Fatalf("chars %d accepted", bad)
		}
	}
}
