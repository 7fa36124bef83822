package sim

import (
	"bytes"

	"github.com/smppd/smppd/msg"
)

// udhi is the esm_class bit that says short_message starts with a UDH
// (SMPP 3.4 §5.2.12): the only esm_class bit an echoed MO keeps.
const udhi = 0x40

// echo builds the MO a matching MT is echoed back as. Its byte slices are
// the worker's own scratch buffers (grown once, then reused), so the MO can
// go out after the MT was released.
type echo struct {
	prefixes               [][]byte
	in                     msg.Inbound
	svc, src, dst, sm, tlv []byte
}

// match reports whether dest starts with one of the prefixes.
func (e *echo) match(dest []byte) bool {
	for _, p := range e.prefixes {
		if bytes.HasPrefix(dest, p) {
			return true
		}
	}
	return false
}

// fill copies m's fields into the scratch MO: addresses swapped, same
// data_coding, short_message and TLVs, esm_class reduced to its UDHI bit.
// Precondition: the worker owns m (claimed, not yet released).
func (e *echo) fill(m *msg.Message, name string, now int64) *msg.Inbound {
	e.svc = append(e.svc[:0], m.ServiceType...)
	e.src = append(e.src[:0], m.Dest...)
	e.dst = append(e.dst[:0], m.Source...)
	e.sm = append(e.sm[:0], m.ShortMessage...)
	e.tlv = append(e.tlv[:0], m.TLVs...)
	e.in = msg.Inbound{
		Connector:    name,
		ServiceType:  e.svc,
		SourceTON:    m.DestTON,
		SourceNPI:    m.DestNPI,
		Source:       e.src,
		DestTON:      m.SourceTON,
		DestNPI:      m.SourceNPI,
		Dest:         e.dst,
		ESMClass:     m.ESMClass & udhi,
		ProtocolID:   m.ProtocolID,
		Priority:     m.Priority,
		DataCoding:   m.DataCoding,
		ShortMessage: e.sm,
		TLVs:         e.tlv,
		Received:     now,
	}
	return &e.in
}
