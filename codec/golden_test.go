package codec_test

// Golden vectors: testdata/golden/*.hex are PDUs written by
// hand from the spec as annotated hex, one field per line, then "----" and
// the expected decoded dump. Each is decoded, dumped, compared, re-encoded to
// identical bytes and fed through Frames cut at every offset. The same files
// are cross-checked against Net::SMPP by scripts/crosscheck-golden.pl, so the
// dump format below is shared with that script: change both together.
//
// testdata/golden/bad/*.hex are malformed frames whose expected section is
// the status the codec must report and whether framing is lost.
//
// go test ./codec -run Golden -update rewrites the expected sections from
// what the codec produces; review the diff by hand before committing.

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smppd/smppd/codec"
)

var update = flag.Bool("update", false, "rewrite the expected section of testdata/golden vectors")

const goldenDir = "testdata/golden"

// vector is one annotated hex file.
type vector struct {
	name  string
	path  string
	head  string // everything up to and including the "----" line, verbatim
	frame []byte
	want  string // expected section, newline-terminated lines
}

// parseVector reads the hex part (comments after '#' and whitespace ignored)
// and splits off the expected section.
func parseVector(path string, data []byte) (vector, error) {
	v := vector{name: strings.TrimSuffix(filepath.Base(path), ".hex"), path: path}
	text := string(data)
	sep := strings.Index(text, "\n----\n")
	if sep < 0 {
		return v, fmt.Errorf("%s: no ---- line", path)
	}
	v.head = text[:sep+len("\n----\n")]
	v.want = text[sep+len("\n----\n"):]
	var digits strings.Builder
	for n, line := range strings.Split(text[:sep], "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, c := range line {
			switch {
			case c == ' ' || c == '\t' || c == '\r':
			case ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F'):
				digits.WriteRune(c)
			default:
				return v, fmt.Errorf("%s:%d: %q is not hex", path, n+1, c)
			}
		}
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		return v, fmt.Errorf("%s: %v", path, err)
	}
	v.frame = b
	return v, nil
}

func loadVectors(t *testing.T, dir string) []vector {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no vectors in %s", dir)
	}
	vs := make([]vector, 0, len(paths))
	for _, p := range paths { // Glob sorts, so the order is stable
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		v, err := parseVector(p, data)
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

func rewrite(t *testing.T, v vector, got string) {
	t.Helper()
	if err := os.WriteFile(v.path, []byte(v.head+got), 0o644); err != nil {
		t.Fatal(err)
	}
}

// bodyOptional lists the responses whose body may be absent on error
// (SMPP 3.4 §4.1.2, §4.4.2 and the other response tables); the dump says
// "body: absent" for those.
func bodyOptional(id codec.CommandID) bool {
	switch id {
	case codec.BindReceiverRespID, codec.BindTransmitterRespID, codec.BindTransceiverRespID,
		codec.SubmitSMRespID, codec.DeliverSMRespID, codec.DataSMRespID, codec.SubmitMultiRespID:
		return true
	}
	return false
}

// dumper renders the stable text form. Strings are quoted: printable ASCII
// as is, `"` and `\` backslash-escaped, every other octet as \xNN.
type dumper struct{ b strings.Builder }

func (d *dumper) str(name string, v []byte) {
	d.b.WriteString(name)
	d.b.WriteString(": \"")
	for _, c := range v {
		switch {
		case c == '"' || c == '\\':
			d.b.WriteByte('\\')
			d.b.WriteByte(c)
		case c >= 0x20 && c <= 0x7e:
			d.b.WriteByte(c)
		default:
			fmt.Fprintf(&d.b, "\\x%02x", c)
		}
	}
	d.b.WriteString("\"\n")
}

func (d *dumper) dec(name string, v uint8)  { fmt.Fprintf(&d.b, "%s: %d\n", name, v) }
func (d *dumper) hex8(name string, v uint8) { fmt.Fprintf(&d.b, "%s: 0x%02x\n", name, v) }

func (d *dumper) sm(v []byte) {
	d.dec("sm_length", uint8(len(v)))
	d.str("short_message", v)
}

func (d *dumper) tlvs(t *codec.TLVs) {
	it := t.Iter()
	for {
		tag, val, ok := it.Next()
		if !ok {
			return
		}
		name := "unknown"
		if tag.Known() {
			name = tag.String()
		}
		if len(val) == 0 {
			fmt.Fprintf(&d.b, "tlv 0x%04x %s: (empty)\n", uint16(tag), name)
		} else {
			fmt.Fprintf(&d.b, "tlv 0x%04x %s: %x\n", uint16(tag), name, val)
		}
	}
}

// addr renders a TON/NPI/address triple: "<prefix>_ton", "<prefix>_npi", name.
func (d *dumper) addr(prefix, name string, ton, npi uint8, a []byte) {
	d.dec(prefix+"_ton", ton)
	d.dec(prefix+"_npi", npi)
	d.str(name, a)
}

// dump renders a decoded PDU; the field order is the wire order.
func dump(p *codec.PDU) string {
	var d dumper
	h := p.Header
	fmt.Fprintf(&d.b, "command: %s\nstatus: %s\nsequence: %d\nlength: %d\n", h.CommandID, h.Status, h.Sequence, h.Length)
	if h.Length == codec.HeaderLen && bodyOptional(h.CommandID) {
		d.b.WriteString("body: absent\n")
		return d.b.String()
	}
	switch h.CommandID {
	case codec.BindReceiverID, codec.BindTransmitterID, codec.BindTransceiverID:
		b := &p.Bind
		d.str("system_id", b.SystemID)
		d.str("password", b.Password)
		d.str("system_type", b.SystemType)
		d.hex8("interface_version", b.InterfaceVersion)
		d.addr("addr", "address_range", b.AddrTON, b.AddrNPI, b.AddressRange)
		d.tlvs(&b.TLVs)
	case codec.BindReceiverRespID, codec.BindTransmitterRespID, codec.BindTransceiverRespID:
		d.str("system_id", p.BindResp.SystemID)
		d.tlvs(&p.BindResp.TLVs)
	case codec.OutbindID:
		d.str("system_id", p.Outbind.SystemID)
		d.str("password", p.Outbind.Password)
		d.tlvs(&p.Outbind.TLVs)
	case codec.SubmitSMID, codec.DeliverSMID:
		s := &p.SM
		d.str("service_type", s.ServiceType)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.addr("dest_addr", "destination_addr", s.DestAddrTON, s.DestAddrNPI, s.DestinationAddr)
		d.hex8("esm_class", s.ESMClass)
		d.hex8("protocol_id", s.ProtocolID)
		d.dec("priority_flag", s.PriorityFlag)
		d.str("schedule_delivery_time", s.ScheduleDeliveryTime)
		d.str("validity_period", s.ValidityPeriod)
		d.hex8("registered_delivery", s.RegisteredDelivery)
		d.dec("replace_if_present_flag", s.ReplaceIfPresentFlag)
		d.hex8("data_coding", s.DataCoding)
		d.dec("sm_default_msg_id", s.SMDefaultMsgID)
		d.sm(s.ShortMessage)
		d.tlvs(&s.TLVs)
	case codec.SubmitSMRespID:
		d.str("message_id", p.SubmitSMResp.MessageID)
		d.tlvs(&p.SubmitSMResp.TLVs)
	case codec.DeliverSMRespID:
		d.str("message_id", p.DeliverSMResp.MessageID)
		d.tlvs(&p.DeliverSMResp.TLVs)
	case codec.DataSMRespID:
		d.str("message_id", p.DataSMResp.MessageID)
		d.tlvs(&p.DataSMResp.TLVs)
	case codec.DataSMID:
		s := &p.DataSM
		d.str("service_type", s.ServiceType)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.addr("dest_addr", "destination_addr", s.DestAddrTON, s.DestAddrNPI, s.DestinationAddr)
		d.hex8("esm_class", s.ESMClass)
		d.hex8("registered_delivery", s.RegisteredDelivery)
		d.hex8("data_coding", s.DataCoding)
		d.tlvs(&s.TLVs)
	case codec.SubmitMultiID:
		s := &p.SubmitMulti
		d.str("service_type", s.ServiceType)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.dec("number_of_dests", uint8(s.Dests.NumDests()))
		for i := 0; i < s.Dests.NumDests(); i++ {
			x := s.Dests.Dest(i)
			var q dumper
			q.str("", x.Addr) // reuse the quoting; drop the ": " prefix below
			quoted := strings.TrimSuffix(strings.TrimPrefix(q.b.String(), ": "), "\n")
			if x.Flag == codec.DestFlagSMEAddress {
				fmt.Fprintf(&d.b, "dest[%d]: sme ton=%d npi=%d addr=%s\n", i, x.TON, x.NPI, quoted)
			} else {
				fmt.Fprintf(&d.b, "dest[%d]: dl name=%s\n", i, quoted)
			}
		}
		d.hex8("esm_class", s.ESMClass)
		d.hex8("protocol_id", s.ProtocolID)
		d.dec("priority_flag", s.PriorityFlag)
		d.str("schedule_delivery_time", s.ScheduleDeliveryTime)
		d.str("validity_period", s.ValidityPeriod)
		d.hex8("registered_delivery", s.RegisteredDelivery)
		d.dec("replace_if_present_flag", s.ReplaceIfPresentFlag)
		d.hex8("data_coding", s.DataCoding)
		d.dec("sm_default_msg_id", s.SMDefaultMsgID)
		d.sm(s.ShortMessage)
		d.tlvs(&s.TLVs)
	case codec.SubmitMultiRespID:
		s := &p.SubmitMultiResp
		d.str("message_id", s.MessageID)
		d.dec("no_unsuccess", uint8(s.Unsuccess.Len()))
		for i := 0; i < s.Unsuccess.Len(); i++ {
			x := s.Unsuccess.At(i)
			var q dumper
			q.str("", x.Addr)
			quoted := strings.TrimSuffix(strings.TrimPrefix(q.b.String(), ": "), "\n")
			fmt.Fprintf(&d.b, "unsuccess[%d]: ton=%d npi=%d addr=%s error=%s\n", i, x.TON, x.NPI, quoted, x.Status)
		}
		d.tlvs(&s.TLVs)
	case codec.QuerySMID:
		s := &p.QuerySM
		d.str("message_id", s.MessageID)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.tlvs(&s.TLVs)
	case codec.QuerySMRespID:
		s := &p.QuerySMResp
		d.str("message_id", s.MessageID)
		d.str("final_date", s.FinalDate)
		d.dec("message_state", uint8(s.MessageState))
		d.dec("error_code", s.ErrorCode)
		d.tlvs(&s.TLVs)
	case codec.CancelSMID:
		s := &p.CancelSM
		d.str("service_type", s.ServiceType)
		d.str("message_id", s.MessageID)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.addr("dest_addr", "destination_addr", s.DestAddrTON, s.DestAddrNPI, s.DestinationAddr)
		d.tlvs(&s.TLVs)
	case codec.ReplaceSMID:
		s := &p.ReplaceSM
		d.str("message_id", s.MessageID)
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.str("schedule_delivery_time", s.ScheduleDeliveryTime)
		d.str("validity_period", s.ValidityPeriod)
		d.hex8("registered_delivery", s.RegisteredDelivery)
		d.dec("sm_default_msg_id", s.SMDefaultMsgID)
		d.sm(s.ShortMessage)
		d.tlvs(&s.TLVs)
	case codec.AlertNotificationID:
		s := &p.AlertNotification
		d.addr("source_addr", "source_addr", s.SourceAddrTON, s.SourceAddrNPI, s.SourceAddr)
		d.addr("esme_addr", "esme_addr", s.ESMEAddrTON, s.ESMEAddrNPI, s.ESMEAddr)
		d.tlvs(&s.TLVs)
	}
	return d.b.String()
}

// canonicalEmptyBody is what Append writes for a response decoded from a
// body-less frame: the codec always sends the body (some client libraries
// cannot decode an error response without it), so such frames re-encode to
// header + empty mandatory fields.
func canonicalEmptyBody(id codec.CommandID) []byte {
	if id == codec.SubmitMultiRespID {
		return []byte{0, 0} // message_id NUL, no_unsuccess 0
	}
	return []byte{0} // system_id or message_id NUL
}

func TestGolden(t *testing.T) {
	vs := loadVectors(t, goldenDir)
	if len(vs) < 45 {
		t.Errorf("%d golden vectors, want at least 45", len(vs))
	}
	var p, q codec.PDU
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			p.Reset()
			if err := p.Decode(v.frame); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			got := dump(&p)
			if got != v.want {
				if *update {
					rewrite(t, v, got)
				} else {
					t.Errorf("dump differs\n--- got\n%s--- want\n%s", got, v.want)
				}
			}
			if whole, need, err := codec.Frames(v.frame, 0); whole != len(v.frame) || need != 0 || err != nil {
				t.Errorf("Frames(frame) = %d, %d, %v; want %d, 0, nil: frame not consumed exactly", whole, need, err, len(v.frame))
			}

			// Re-encode after a prefix: the prefix must survive untouched.
			prefix := []byte("prefix")
			out, err := p.Append(append([]byte(nil), prefix...))
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(out[:len(prefix)], prefix) {
				t.Fatalf("Append overwrote dst's existing bytes: %q", out[:len(prefix)])
			}
			out = out[len(prefix):]
			want := v.frame
			if strings.Contains(v.want, "\nbody: absent\n") {
				want = append(append([]byte(nil), v.frame...), canonicalEmptyBody(p.Header.CommandID)...)
				want[3] = byte(len(want)) // command_length < 256 here
			}
			if !bytes.Equal(out, want) {
				t.Fatalf("re-encoded bytes differ\n got %x\nwant %x", out, want)
			}

			// The re-encoded frame decodes to the same fields.
			q.Reset()
			if err := q.Decode(out); err != nil {
				t.Fatalf("Decode(re-encoded): %v", err)
			}
			if bytes.Equal(out, v.frame) && dump(&q) != got {
				t.Errorf("re-decoded dump differs\n--- got\n%s--- want\n%s", dump(&q), got)
			}
		})
	}
}

// TestGoldenCoverage: the vector set holds every v3.4 command id.
func TestGoldenCoverage(t *testing.T) {
	seen := map[codec.CommandID]bool{}
	for _, v := range loadVectors(t, goldenDir) {
		h, err := codec.ParseHeader(v.frame)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		seen[h.CommandID] = true
	}
	all := []codec.CommandID{
		codec.GenericNackID, codec.BindReceiverID, codec.BindReceiverRespID, codec.BindTransmitterID,
		codec.BindTransmitterRespID, codec.QuerySMID, codec.QuerySMRespID, codec.SubmitSMID, codec.SubmitSMRespID,
		codec.DeliverSMID, codec.DeliverSMRespID, codec.UnbindID, codec.UnbindRespID, codec.ReplaceSMID,
		codec.ReplaceSMRespID, codec.CancelSMID, codec.CancelSMRespID, codec.BindTransceiverID,
		codec.BindTransceiverRespID, codec.OutbindID, codec.EnquireLinkID, codec.EnquireLinkRespID,
		codec.SubmitMultiID, codec.SubmitMultiRespID, codec.AlertNotificationID, codec.DataSMID, codec.DataSMRespID,
	}
	for _, id := range all {
		if !seen[id] {
			t.Errorf("no golden vector for %s", id)
		}
	}
}

// assembler is a minimal stream reader: bytes arrive in arbitrary pieces,
// complete frames leave. It checks Frames' whole/need against its own count
// of what is buffered after every piece.
type assembler struct {
	t      *testing.T
	buf    []byte
	frames [][]byte
}

func (a *assembler) feed(piece []byte) {
	a.t.Helper()
	a.buf = append(a.buf, piece...)
	whole, need, err := codec.Frames(a.buf, 0)
	if err != nil {
		a.t.Fatalf("Frames after %d buffered octets: %v", len(a.buf), err)
	}
	// Split the complete prefix with FrameLen, as a reader would.
	for off := 0; off < whole; {
		n, err := codec.FrameLen(a.buf[off:], 0)
		if err != nil || n < codec.HeaderLen || off+n > whole {
			a.t.Fatalf("FrameLen at %d = %d, %v inside whole=%d", off, n, err, whole)
		}
		a.frames = append(a.frames, append([]byte(nil), a.buf[off:off+n]...))
		off += n
	}
	a.buf = append(a.buf[:0], a.buf[whole:]...)
	rest := len(a.buf)
	switch {
	case rest == 0:
		if need != 0 {
			a.t.Fatalf("nothing buffered but need = %d", need)
		}
	case rest < 4:
		if need != 4-rest {
			a.t.Fatalf("%d header octets buffered, need = %d; want %d", rest, need, 4-rest)
		}
	default:
		n, _ := codec.FrameLen(a.buf, 0)
		if need != n-rest {
			a.t.Fatalf("%d of %d octets buffered, need = %d; want %d", rest, n, need, n-rest)
		}
	}
}

func (a *assembler) expect(frames ...[]byte) {
	a.t.Helper()
	if len(a.buf) != 0 {
		a.t.Fatalf("%d octets left buffered", len(a.buf))
	}
	if len(a.frames) != len(frames) {
		a.t.Fatalf("assembled %d frames, want %d", len(a.frames), len(frames))
	}
	for i := range frames {
		if !bytes.Equal(a.frames[i], frames[i]) {
			a.t.Fatalf("frame %d differs\n got %x\nwant %x", i, a.frames[i], frames[i])
		}
	}
}

// TestGoldenSplit feeds every golden frame cut at every offset, one byte at
// a time, and glued to the next vector cut at every offset.
func TestGoldenSplit(t *testing.T) {
	vs := loadVectors(t, goldenDir)
	var p codec.PDU
	for i, v := range vs {
		next := vs[(i+1)%len(vs)].frame
		t.Run(v.name, func(t *testing.T) {
			f := v.frame
			for k := 0; k <= len(f); k++ {
				// Exact whole/need for a lone prefix of k octets.
				whole, need, err := codec.Frames(f[:k], 0)
				wantWhole, wantNeed := 0, len(f)-k
				switch {
				case k == len(f):
					wantWhole, wantNeed = len(f), 0
				case k < 4:
					wantNeed = 4 - k
					if k == 0 {
						wantNeed = 0
					}
				}
				if whole != wantWhole || need != wantNeed || err != nil {
					t.Fatalf("Frames(frame[:%d]) = %d, %d, %v; want %d, %d, nil", k, whole, need, err, wantWhole, wantNeed)
				}
				// Two pieces through a reader; the frame must come out intact and decode.
				a := assembler{t: t}
				a.feed(f[:k])
				a.feed(f[k:])
				a.expect(f)
				p.Reset()
				if err := p.Decode(a.frames[0]); err != nil {
					t.Fatalf("cut at %d: Decode: %v", k, err)
				}
			}

			a := assembler{t: t}
			for k := range f {
				a.feed(f[k : k+1])
			}
			a.expect(f)

			both := append(append([]byte(nil), f...), next...)
			for k := 0; k <= len(both); k++ {
				a := assembler{t: t}
				a.feed(both[:k])
				a.feed(both[k:])
				a.expect(f, next)
			}
		})
	}

	// The whole set back to back, one byte at a time.
	a := assembler{t: t}
	var all [][]byte
	for _, v := range vs {
		all = append(all, v.frame)
		for k := range v.frame {
			a.feed(v.frame[k : k+1])
		}
	}
	a.expect(all...)
}

// TestGoldenBad: malformed frames get the expected status; framing errors
// are fatal and reported by Frames, body errors by Decode with the frame
// still cleanly delimited.
func TestGoldenBad(t *testing.T) {
	vs := loadVectors(t, filepath.Join(goldenDir, "bad"))
	if len(vs) < 10 {
		t.Errorf("%d malformed vectors, want at least 10", len(vs))
	}
	var p codec.PDU
	for _, v := range vs {
		t.Run(v.name, func(t *testing.T) {
			var err error
			whole, need, ferr := codec.Frames(v.frame, 0)
			switch {
			case ferr != nil:
				if whole != 0 {
					t.Errorf("Frames: whole = %d before the bad frame, want 0", whole)
				}
				err = ferr
			case whole != len(v.frame) || need != 0:
				t.Fatalf("Frames = %d, %d; want the vector to be exactly one frame (%d octets)", whole, need, len(v.frame))
			default:
				p.Reset()
				err = p.Decode(v.frame)
			}
			if err == nil {
				t.Fatal("accepted a malformed frame")
			}
			got := fmt.Sprintf("status: %s\nfatal: %t\n", codec.StatusOf(err), codec.IsFatal(err))
			if got != v.want {
				if *update {
					rewrite(t, v, got)
				} else {
					t.Errorf("error %q\n--- got\n%s--- want\n%s", err, got, v.want)
				}
			}
			if codec.IsFatal(err) != (ferr != nil) {
				t.Errorf("fatal = %t but reported by %s", codec.IsFatal(err), map[bool]string{true: "Frames", false: "Decode"}[ferr != nil])
			}
		})
	}
}
