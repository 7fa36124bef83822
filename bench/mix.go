package bench

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/smppd/smppd/codec"
)

// Kind is a message kind of the mix.
type Kind uint8

// Message kinds.
const (
	KindGSM7 Kind = iota // 160 GSM 7-bit characters, one octet each, data_coding 0
	KindUCS2             // 70 UCS-2 characters (140 octets), data_coding 8
	KindLong             // 3-part concatenated GSM7 with an 8-bit-reference UDH
	numKinds
)

var kindNames = [numKinds]string{"gsm7", "ucs2", "long"}

// String returns the mix name of k.
func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// parts is how many submit_sm one message of k takes.
func (k Kind) parts() int {
	if k == KindLong {
		return 3
	}
	return 1
}

// Mix is a parsed message mix: weights per kind, in messages.
type Mix [numKinds]int

// ParseMix reads "gsm7", "ucs2", "long" or a weighted list such as
// "gsm7:70,ucs2:20,long:10" (a name without weight counts 1).
func ParseMix(s string) (Mix, error) {
	var m Mix
	total := 0
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, ws, hasW := strings.Cut(f, ":")
		w := 1
		if hasW {
			v, err := strconv.Atoi(strings.TrimSpace(ws))
			if err != nil || v < 0 || v > 1000 {
				return m, fmt.Errorf("bench: mix %q: weight must be 0..1000", f)
			}
			w = v
		}
		k := Kind(0)
		for k < numKinds && kindNames[k] != strings.TrimSpace(name) {
			k++
		}
		if k == numKinds {
			return m, fmt.Errorf("bench: mix %q: unknown kind (gsm7, ucs2, long)", f)
		}
		m[k] += w
		total += w
	}
	if total == 0 {
		return m, fmt.Errorf("bench: mix %q has no message", s)
	}
	return m, nil
}

// String prints m in ParseMix syntax.
func (m Mix) String() string {
	var b strings.Builder
	for k, w := range m {
		if w == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s:%d", Kind(k), w)
	}
	return b.String()
}

// template is one pre-encoded submit_sm. Sending it copies frame and patches
// the sequence number at 12..16 and, for a concatenated part, the UDH
// reference at refOff (0 = none).
type template struct {
	frame  []byte
	refOff int
	first  bool // first part of a message: the concatenation reference advances
}

// templates is the read-only, shared send plan of a run: the pre-encoded
// PDUs and the order in which they are sent (sched indexes tpl). maxFrame
// sizes the write buffers.
type templates struct {
	tpl      []template
	sched    []uint16
	maxFrame int
	receipts bool
}

// Texts of the mix: fixed, so every run sends the same octets.
const (
	gsm7Text = "smppbench GSM7 160: The quick brown fox jumps over the lazy dog 0123456789. " +
		"Pack my box with five dozen liquor jugs! How vexingly quick daft zebras jump?? 1234"
	ucs2Text = "smppbench UCS2 70: Grüße aus Köln – Привет, мир! 你好世界 ☺ ok 0123456789A"
	udhLen   = 6   // 05 00 03 ref total seq
	partText = 153 // GSM7 characters per part after a 6-octet UDH (unpacked, one per octet)
	oneText  = 160 // GSM7 characters of a message that needs no concatenation
	// MaxChars bounds Config.Chars: an 8-bit-reference UDH counts at most
	// 255 parts.
	MaxChars = 255 * partText
)

// partsOf is how many submit_sm one message of k takes under cfg: with
// Chars set, a GSM7 or long message is Chars characters, one submit_sm up
// to 160 and 153 per concatenated part past it.
func partsOf(cfg *Config, k Kind) int {
	if cfg.Chars > 0 && k != KindUCS2 {
		if cfg.Chars <= oneText {
			return 1
		}
		return (cfg.Chars + partText - 1) / partText
	}
	return k.parts()
}

// buildTemplates pre-encodes every kind of m and lays out a schedule of 100
// messages (or the total weight, whichever is larger) interleaved by smooth
// weighted round robin, so a 70/20/10 mix sends its kinds spread out rather
// than in runs.
func buildTemplates(cfg *Config, m Mix) (*templates, error) {
	t := &templates{receipts: cfg.Receipts}
	first := [numKinds]int{}
	for k := Kind(0); k < numKinds; k++ {
		first[k] = len(t.tpl)
		if m[k] == 0 {
			continue
		}
		for part := 1; part <= partsOf(cfg, k); part++ {
			tp, err := encodeTemplate(cfg, k, part)
			if err != nil {
				return nil, err
			}
			t.tpl = append(t.tpl, tp)
			t.maxFrame = max(t.maxFrame, len(tp.frame))
		}
	}
	total := 0
	for _, w := range m {
		total += w
	}
	n := max(100, total)
	var cur [numKinds]int
	for range n {
		best := Kind(0)
		for k := range numKinds {
			cur[k] += m[k]
			if cur[k] > cur[best] {
				best = k
			}
		}
		cur[best] -= total
		for p := range partsOf(cfg, best) {
			t.sched = append(t.sched, uint16(first[best]+p))
		}
	}
	return t, nil
}

// encodeTemplate builds part (1-based) of a message of kind k with the codec.
func encodeTemplate(cfg *Config, k Kind, part int) (template, error) {
	sm := codec.SM{
		SourceAddrTON:   5, // alphanumeric
		SourceAddrNPI:   0,
		SourceAddr:      []byte(cfg.SourceAddr),
		DestAddrTON:     1, // international
		DestAddrNPI:     1, // E.164
		DestinationAddr: []byte(cfg.DestAddr),
	}
	if cfg.Receipts {
		sm.RegisteredDelivery = 1
	}
	tp := template{first: part == 1}
	parts := partsOf(cfg, k)
	concat := parts > 1
	switch {
	case cfg.Chars > 0 && k != KindUCS2 && !concat:
		b := make([]byte, cfg.Chars)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		sm.ShortMessage = b
	case concat:
		n := partText
		if cfg.Chars > 0 {
			n = min(partText, cfg.Chars-partText*(part-1))
		}
		b := []byte{5, 0, 3, 0, byte(parts), byte(part)}
		for i := range n {
			b = append(b, 'a'+byte((i+part)%26))
		}
		sm.ESMClass = codec.ESMClassUDHI
		sm.ShortMessage = b
	case k == KindGSM7:
		sm.ShortMessage = []byte(gsm7Text)
	case k == KindUCS2:
		u := utf16.Encode([]rune(ucs2Text))
		b := make([]byte, 0, 2*len(u))
		for _, c := range u {
			b = append(b, byte(c>>8), byte(c))
		}
		sm.DataCoding = 8
		sm.ShortMessage = b
	}
	f, err := sm.Append(nil, codec.Header{CommandID: codec.SubmitSMID, Sequence: 1})
	if err != nil {
		return tp, fmt.Errorf("bench: encoding the %s template: %w", k, err)
	}
	tp.frame = f
	if concat {
		tp.refOff = len(f) - len(sm.ShortMessage) + 3
	}
	return tp, nil
}
