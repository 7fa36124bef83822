package smppout

import (
	"errors"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/msg"
)

// encoder is a worker's scratch for building submit_sm, sized so that
// nothing grows in steady state.
type encoder struct {
	sm    codec.SM
	tlv   codec.TLVs
	parts []concat.Part
	udh   []byte
	rest  []byte // the message's TLVs without message_payload
	short [codec.MaxShortMessage]byte
	vp    [16]byte
	frame []byte
}

func newEncoder() encoder {
	return encoder{
		parts: make([]concat.Part, 0, concat.MaxParts),
		udh:   make([]byte, 0, concat.MaxParts*concat.Concat16UDHLen),
		rest:  make([]byte, 0, 256),
		frame: make([]byte, 0, 1024),
	}
}

// prepare decides how j's message goes upstream: whole, or (message_payload
// to an upstream without payload support) as concatenated parts, which it
// leaves in s.enc.parts. It runs on every attempt (the parts are views into
// the session's scratch). A message that cannot be sent gets a status and
// false.
func (s *session) prepare(j *job) (codec.Status, bool) {
	m := j.m
	e := &s.enc
	split, n := false, 1
	if !s.c.opts.SupportsPayload && len(m.TLVs) > 0 {
		if err := e.tlv.SetRaw(m.TLVs); err != nil {
			return codec.StatusOf(err), false
		}
		if payload, ok := e.tlv.Get(codec.TagMessagePayload); ok {
			if st, ok := s.splitPayload(m, payload); !ok {
				return st, false
			}
			split, n = true, len(e.parts)
		}
	}
	if j.prepared && (split != j.split || n != j.nparts) {
		// replace_sm changed the message between attempts: start over.
		j.accepted, j.nAccepted, j.firstLen = [4]uint64{}, 0, 0
	}
	j.prepared, j.split, j.nparts = true, split, n
	return codec.StatusOK, true
}

// splitPayload fills e.parts and e.rest for a message_payload sent as
// short_message parts.
func (s *session) splitPayload(m *msg.Message, payload []byte) (codec.Status, bool) {
	e := &s.enc
	e.rest = e.rest[:0]
	it := e.tlv.Iter()
	for tag, val, ok := it.Next(); ok; tag, val, ok = it.Next() {
		if tag == codec.TagMessagePayload {
			continue
		}
		e.rest = append(e.rest, byte(tag>>8), byte(tag), byte(len(val)>>8), byte(len(val)))
		e.rest = append(e.rest, val...)
	}
	if m.ESMClass&codec.ESMClassUDHI != 0 {
		// The payload carries a UDH of its own: it can only go whole.
		if len(payload) > concat.UserDataOctets {
			return codec.StatusInvMsgLen, false
		}
		e.parts = append(e.parts[:0], concat.Part{Body: payload, Segment: concat.Segment{Total: 1, Seq: 1}})
		return codec.StatusOK, true
	}
	a := alphabet(m.DataCoding)
	parts, udh, err := concat.Split(e.parts[:0], e.udh[:0], payload, a, concat.UDH8, concatRef(m.ID))
	if errors.Is(err, concat.ErrBadPayload) && a == concat.GSM7 {
		// Octets above 0x7F in a default-alphabet message: cut as 8-bit.
		parts, udh, err = concat.Split(e.parts[:0], e.udh[:0], payload, concat.Octet, concat.UDH8, concatRef(m.ID))
	}
	if err != nil {
		return codec.StatusInvMsgLen, false
	}
	e.parts, e.udh = parts, udh
	return codec.StatusOK, true
}

// alphabet picks how a payload in data coding dc may be cut (SMPP 3.4
// §5.2.19): UCS2, the GSM default alphabet (one septet per octet), or octets.
func alphabet(dc byte) concat.Alphabet {
	switch {
	case dc == codec.DataCodingUCS2:
		return concat.UCS2
	case dc == codec.DataCodingDefault, dc == codec.DataCodingIA5,
		dc&0xF4 == 0xF0: // data coding/message class group, GSM 7-bit
		return concat.GSM7
	}
	return concat.Octet
}

// concatRef derives the UDH reference from our id, so every attempt of one
// message uses the same reference.
func concatRef(id msg.ID) uint16 {
	v := uint64(id)
	v ^= v >> 32
	v ^= v >> 16
	v ^= v >> 8
	return uint16(v & 0xFF)
}

// encode builds the submit_sm for part of j (sequence 0: the caller
// patches it in). The frame is valid until the next encode.
func (s *session) encode(j *job, part int) ([]byte, error) {
	m := j.m
	e := &s.enc
	sm := &e.sm
	sm.Reset()
	sm.ServiceType = m.ServiceType
	sm.SourceAddrTON, sm.SourceAddrNPI, sm.SourceAddr = m.SourceTON, m.SourceNPI, m.Source
	if o := &s.c.opts; o.SourceTON != nil || o.SourceNPI != nil {
		if o.SourceTON != nil {
			sm.SourceAddrTON = *o.SourceTON
		}
		if o.SourceNPI != nil {
			sm.SourceAddrNPI = *o.SourceNPI
		}
	}
	sm.DestAddrTON, sm.DestAddrNPI, sm.DestinationAddr = m.DestTON, m.DestNPI, m.Dest
	sm.ESMClass, sm.ProtocolID, sm.PriorityFlag = m.ESMClass, m.ProtocolID, m.Priority
	sm.ScheduleDeliveryTime = m.ScheduleDeliveryTime
	sm.ValidityPeriod = s.validity(m)
	sm.RegisteredDelivery, sm.ReplaceIfPresentFlag = m.RegisteredDelivery, m.ReplaceIfPresent
	sm.DataCoding, sm.SMDefaultMsgID = m.DataCoding, m.SMDefaultMsgID
	tlvs := m.TLVs
	if !j.split {
		sm.ShortMessage = m.ShortMessage
	} else {
		p := &e.parts[part]
		n := copy(e.short[:], p.UDH)
		n += copy(e.short[n:], p.Body)
		sm.ShortMessage = e.short[:n]
		if p.UDH != nil {
			sm.ESMClass |= codec.ESMClassUDHI
		}
		if part != j.nparts-1 {
			// One receipt per message: only the last part asks.
			sm.RegisteredDelivery &^= codec.RegisteredDeliveryReceiptMask | codec.RegisteredDeliveryIntermediate
		}
		tlvs = e.rest
	}
	if len(tlvs) > 0 {
		if err := sm.TLVs.SetRaw(tlvs); err != nil {
			return nil, err
		}
	}
	out, err := sm.Append(e.frame[:0], codec.Header{CommandID: codec.SubmitSMID})
	if err != nil {
		return nil, err
	}
	e.frame = out
	return out, nil
}

// validity returns the validity_period to send: as received, except that a
// relative one is rewritten to the time left once the message has waited
// here for a second or more (retries, a bind down), so the upstream does
// not extend it.
func (s *session) validity(m *msg.Message) []byte {
	vp := m.ValidityPeriod
	if len(vp) != 16 || vp[15] != 'R' || m.Expires == 0 {
		return vp
	}
	now := s.c.now()
	if now-m.Received < int64(time.Second) {
		return vp
	}
	left := max(time.Duration(m.Expires-now), time.Second)
	left = (left + time.Second - 1).Truncate(time.Second)
	return codec.AppendRelativeTime(s.enc.vp[:0], left)
}
