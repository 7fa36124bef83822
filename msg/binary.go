package msg

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The binary form of a Message: what a durable store keeps of an accepted
// MT so it can send it again after a restart (everything the submit gave,
// its route by connector name, its times and parts). It starts with a
// format version; a release reads every version up to its own and refuses
// a newer one with ErrBinaryVersion.
//
// Version 1, in order (uvarint and varint are encoding/binary's):
//
//	version      1 octet (1)
//	ID           8 octets, little endian
//	Command      uvarint
//	Received, Schedule, Expires   varint each (Unix ns)
//	ServiceType  uvarint length + octets
//	SourceTON, SourceNPI          1 octet each
//	Source       uvarint length + octets
//	DestTON, DestNPI              1 octet each
//	Dest         uvarint length + octets
//	ESMClass, ProtocolID, Priority                1 octet each
//	ScheduleDeliveryTime, ValidityPeriod          uvarint length + octets each
//	RegisteredDelivery, ReplaceIfPresent, DataCoding, SMDefaultMsgID  1 octet each
//	ShortMessage, TLVs            uvarint length + octets each
//	PartRef      2 octets, little endian
//	PartNum, PartTotal            1 octet each
//	Parts, Attempts               uvarint each
//	SystemID, Group, Route        uvarint length + octets each
//
// What the connector learns later (AcceptedAt, the Final* fields), the
// failover list (a view into the routing table, re-resolved at recovery),
// the phase and Owner are not kept: the charge is the storage Record's.
const BinaryVersion = 1

// Errors of UnmarshalBinary.
var (
	// ErrBinaryVersion: the data was written by a newer release, in a
	// format this one cannot read (see docs/OPERATIONS.md on rollback).
	ErrBinaryVersion = errors.New("msg: message written in a newer binary format")
	// ErrBinaryCorrupt: the data is truncated or malformed.
	ErrBinaryCorrupt = errors.New("msg: malformed binary message")
)

// AppendBinary appends m's binary form (encoding.BinaryAppender). It does
// not allocate when b has room; the error is always nil.
func (m *Message) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, BinaryVersion)
	b = binary.LittleEndian.AppendUint64(b, uint64(m.ID))
	b = binary.AppendUvarint(b, uint64(m.Command))
	b = binary.AppendVarint(b, m.Received)
	b = binary.AppendVarint(b, m.Schedule)
	b = binary.AppendVarint(b, m.Expires)
	b = appendBytes(b, m.ServiceType)
	b = append(b, m.SourceTON, m.SourceNPI)
	b = appendBytes(b, m.Source)
	b = append(b, m.DestTON, m.DestNPI)
	b = appendBytes(b, m.Dest)
	b = append(b, m.ESMClass, m.ProtocolID, m.Priority)
	b = appendBytes(b, m.ScheduleDeliveryTime)
	b = appendBytes(b, m.ValidityPeriod)
	b = append(b, m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID)
	b = appendBytes(b, m.ShortMessage)
	b = appendBytes(b, m.TLVs)
	b = binary.LittleEndian.AppendUint16(b, m.PartRef)
	b = append(b, m.PartNum, m.PartTotal)
	b = binary.AppendUvarint(b, uint64(max(m.Parts, 0)))
	b = binary.AppendUvarint(b, uint64(max(m.Attempts, 0)))
	b = appendString(b, m.SystemID)
	b = appendString(b, m.Group)
	b = appendString(b, m.Route)
	return b, nil
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendString(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// UnmarshalBinary sets m from data written by AppendBinary (this release's
// version or an older one). Byte fields are copied into m's retained
// buffers, so a pooled Message takes them without allocating; SystemID,
// Group and Route allocate only when they differ from m's. Fields the form
// does not keep are cleared, and m is left in PhaseQueued. On an error m's
// contents are unspecified (Reset it before reuse).
func (m *Message) UnmarshalBinary(data []byte) error {
	if len(data) == 0 {
		return ErrBinaryCorrupt
	}
	if v := data[0]; v != BinaryVersion {
		if v > BinaryVersion {
			return fmt.Errorf("%w (version %d, this release reads up to %d)", ErrBinaryVersion, v, BinaryVersion)
		}
		return ErrBinaryCorrupt
	}
	r := reader{b: data[1:]}
	sid, grp, route := m.SystemID, m.Group, m.Route
	m.Reset()
	m.ID = ID(r.u64())
	m.Command = uint32(r.uvarint(1<<32 - 1))
	m.Received, m.Schedule, m.Expires = r.varint(), r.varint(), r.varint()
	m.ServiceType = r.bytes(m.ServiceType)
	m.SourceTON, m.SourceNPI = r.byte(), r.byte()
	m.Source = r.bytes(m.Source)
	m.DestTON, m.DestNPI = r.byte(), r.byte()
	m.Dest = r.bytes(m.Dest)
	m.ESMClass, m.ProtocolID, m.Priority = r.byte(), r.byte(), r.byte()
	m.ScheduleDeliveryTime = r.bytes(m.ScheduleDeliveryTime)
	m.ValidityPeriod = r.bytes(m.ValidityPeriod)
	m.RegisteredDelivery, m.ReplaceIfPresent, m.DataCoding, m.SMDefaultMsgID = r.byte(), r.byte(), r.byte(), r.byte()
	m.ShortMessage = r.bytes(m.ShortMessage)
	m.TLVs = r.bytes(m.TLVs)
	m.PartRef = r.u16()
	m.PartNum, m.PartTotal = r.byte(), r.byte()
	const maxInt = int(^uint(0) >> 1)
	m.Parts = int(r.uvarint(uint64(maxInt)))
	m.Attempts = int(r.uvarint(uint64(maxInt)))
	m.SystemID = r.str(sid)
	m.Group = r.str(grp)
	m.Route = r.str(route)
	if r.bad || len(r.b) != 0 {
		return ErrBinaryCorrupt
	}
	return nil
}

// reader walks a binary form; a short or malformed field sets bad and
// every later read returns zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) take(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

// uvarint reads an unsigned varint no larger than limit.
func (r *reader) uvarint(limit uint64) uint64 {
	if r.bad {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > limit {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.bad {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

// field reads a length-prefixed field as a view into the data.
func (r *reader) field() []byte {
	n := r.uvarint(uint64(len(r.b)))
	return r.take(int(n))
}

// bytes copies a length-prefixed field into dst's capacity.
func (r *reader) bytes(dst []byte) []byte { return append(dst[:0], r.field()...) }

// str returns a length-prefixed field as a string, reusing cur when equal.
func (r *reader) str(cur string) string {
	v := r.field()
	if string(v) == cur {
		return cur
	}
	return string(v)
}
