package msg

import (
	"bytes"
	"encoding"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"
)

var _ encoding.BinaryAppender = (*Message)(nil)
var _ encoding.BinaryUnmarshaler = (*Message)(nil)

// sampleMessage sets every field the binary form keeps.
func sampleMessage(m *Message) {
	m.ID = 0x0123456789abcdef
	m.SystemID, m.Group, m.Route = "demo", "retail", "upstream-a"
	m.Command = 0x00000004
	m.Received, m.Schedule, m.Expires = 1767225600000000000, 1767225660000000000, -5
	m.ServiceType = append(m.ServiceType[:0], "CMT"...)
	m.SourceTON, m.SourceNPI = 5, 0
	m.Source = append(m.Source[:0], "Shop"...)
	m.DestTON, m.DestNPI = 1, 1
	m.Dest = append(m.Dest[:0], "4917012345678"...)
	m.ESMClass, m.ProtocolID, m.Priority = 0x40, 0x7f, 2
	m.ScheduleDeliveryTime = append(m.ScheduleDeliveryTime[:0], "000000000100000R"...)
	m.ValidityPeriod = append(m.ValidityPeriod[:0], "260101000000000+"...)
	m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID = 0x11, 1, 8, 3
	m.ShortMessage = append(m.ShortMessage[:0], 0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 'h', 'i')
	m.TLVs = append(m.TLVs[:0], 0x02, 0x0b, 0x00, 0x02, 0x13, 0x88)
	m.PartRef, m.PartNum, m.PartTotal, m.Parts = 42, 1, 2, 1
	m.Attempts = 3
}

// kept copies the fields the binary form keeps, for comparison.
func kept(m *Message) Message {
	return Message{
		ID: m.ID, SystemID: m.SystemID, Group: m.Group, Route: m.Route, Command: m.Command,
		Received: m.Received, Schedule: m.Schedule, Expires: m.Expires,
		ServiceType: bytes.Clone(m.ServiceType), SourceTON: m.SourceTON, SourceNPI: m.SourceNPI,
		Source: bytes.Clone(m.Source), DestTON: m.DestTON, DestNPI: m.DestNPI, Dest: bytes.Clone(m.Dest),
		ESMClass: m.ESMClass, ProtocolID: m.ProtocolID, Priority: m.Priority,
		ScheduleDeliveryTime: bytes.Clone(m.ScheduleDeliveryTime), ValidityPeriod: bytes.Clone(m.ValidityPeriod),
		RegisteredDelivery: m.RegisteredDelivery, ReplaceIfPresent: m.ReplaceIfPresent,
		DataCoding: m.DataCoding, SMDefaultMsgID: m.SMDefaultMsgID,
		ShortMessage: bytes.Clone(m.ShortMessage), TLVs: bytes.Clone(m.TLVs),
		PartRef: m.PartRef, PartNum: m.PartNum, PartTotal: m.PartTotal, Parts: m.Parts, Attempts: m.Attempts,
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	m := NewMessage()
	defer m.Release()
	sampleMessage(m)
	// Fields the form does not keep must come back cleared.
	m.Connector, m.Failover, m.AcceptedAt = 3, []int{1, 2}, 9
	m.FinalState, m.FinalErr, m.FinalAt, m.Owner = StateDelivered, 7, 8, "charge"
	b, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := NewMessage()
	defer got.Release()
	got.Connector, got.Owner = 5, 1
	got.Cancel()
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(kept(got), kept(m)) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", kept(got), kept(m))
	}
	if got.Connector != 0 || got.Failover != nil || got.Owner != nil || got.FinalState != 0 || got.AcceptedAt != 0 {
		t.Errorf("fields not kept leaked through: %+v", got)
	}
	if got.Phase() != PhaseQueued {
		t.Errorf("phase %d after UnmarshalBinary, want queued", got.Phase())
	}

	// An empty message round-trips to an empty one.
	var empty, back Message
	b, _ = empty.AppendBinary(b[:0])
	if err := back.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(kept(&back), kept(&empty)) {
		t.Errorf("empty: %v %+v", err, &back)
	}
}

// TestBinaryVersion1 pins version 1's layout: a change to the encoding must
// bump BinaryVersion (and keep reading 1), not silently change this.
func TestBinaryVersion1(t *testing.T) {
	var m Message
	sampleMessage(&m)
	b, _ := m.AppendBinary(nil)
	const want = "01efcdab8967452301048080d0dfbd94b9863180" + // version, ID, command
		"e08ae4fc97b986310903434d5405000453686f7001010d343931" + // times, service_type, source
		"37303132333435363738407f021030303030303030303031" + // dest, esm_class..priority, schedule
		"303030303052103236303130313030303030303030302b110108" + // validity, flags, short_message
		"03080500032a0201686906020b000213882a00010201030464656d6f0672657461696c0a757073747265616d2d61" // TLVs, parts, attempts, system_id, group, route
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("version 1 encoding changed:\n got %s\nwant %s", got, want)
	}
	var back Message
	raw, _ := hex.DecodeString(want)
	if err := back.UnmarshalBinary(raw); err != nil || !reflect.DeepEqual(kept(&back), kept(&m)) {
		t.Fatalf("version 1 does not read back: %v", err)
	}
}

func TestBinaryRefusals(t *testing.T) {
	var m Message
	sampleMessage(&m)
	b, _ := m.AppendBinary(nil)
	var back Message
	newer := append([]byte{BinaryVersion + 1}, b[1:]...)
	if err := back.UnmarshalBinary(newer); !errors.Is(err, ErrBinaryVersion) {
		t.Errorf("newer version: %v, want ErrBinaryVersion", err)
	}
	for _, bad := range [][]byte{nil, {0}, {BinaryVersion}, b[:len(b)-1], append(bytes.Clone(b), 0)} {
		if err := back.UnmarshalBinary(bad); !errors.Is(err, ErrBinaryCorrupt) {
			t.Errorf("UnmarshalBinary(% x...) = %v, want ErrBinaryCorrupt", bad[:min(len(bad), 4)], err)
		}
	}
	// A length running past the end is refused, not read out of range.
	huge := append([]byte{BinaryVersion}, make([]byte, 8)...)
	huge = append(huge, 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if err := back.UnmarshalBinary(huge); !errors.Is(err, ErrBinaryCorrupt) {
		t.Errorf("over-long field: %v", err)
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	var m Message
	sampleMessage(&m)
	b, _ := m.AppendBinary(nil)
	f.Add(b)
	var empty Message
	e, _ := empty.AppendBinary(nil)
	f.Add(e)
	f.Add([]byte{BinaryVersion, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Message
		if err := got.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, ErrBinaryCorrupt) && !errors.Is(err, ErrBinaryVersion) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// What decodes re-encodes to a form that decodes to the same message.
		again, _ := got.AppendBinary(nil)
		var back Message
		if err := back.UnmarshalBinary(again); err != nil {
			t.Fatalf("re-encoded form refused: %v", err)
		}
		if !reflect.DeepEqual(kept(&back), kept(&got)) {
			t.Fatalf("re-encode changed the message:\n%+v\n%+v", kept(&back), kept(&got))
		}
		if len(again) > len(data) {
			t.Fatalf("re-encoding grew: %d > %d octets", len(again), len(data))
		}
	})
}
