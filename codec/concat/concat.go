// Package concat splits long messages into SMS-sized parts and reassembles
// them, for both carriers SMPP v3.4 allows: a User Data Header at the start
// of short_message/message_payload (esm_class UDHI 0x40, IEI 0x00 or 0x08)
// and the three sar_* TLVs (SMPP 3.4 §5.3.2.22-24).
//
// The package is a leaf: it knows nothing of PDUs or character sets. Callers
// hand it payloads that are already encoded in the target coding, named by
// an Alphabet: unpacked GSM 7-bit (one septet per octet, ESC 0x1B + code for
// extension characters), 8-bit octets, or UCS2/UTF-16 big-endian.
//
// Parsing and splitting return views into the caller's buffers and never
// allocate; the Reassembler copies part bodies into buffers it reuses, so it
// does not allocate per part once warmed up.
package concat

// ESMClassUDHI is the esm_class bit saying short_message/message_payload
// starts with a User Data Header (SMPP 3.4 §5.2.12). GSM forbids combining
// it with sar_* TLVs; the caller enforces that on the PDU.
const ESMClassUDHI = 0x40

// Alphabet is how the payload handed to Split is encoded. It decides the
// unit a part boundary may not cut and how many octets fit in one SMS.
type Alphabet uint8

const (
	// GSM7 is unpacked GSM 03.38: one septet (0x00-0x7F) per octet; an
	// extension character is ESC 0x1B plus its code and costs 2 septets.
	GSM7 Alphabet = iota
	// Octet is 8-bit data (data_coding 0x02/0x04, also Latin-1 and other
	// single-octet codings): any octet boundary is a valid cut.
	Octet
	// UCS2 is UTF-16 big-endian (data_coding 0x08): parts hold whole
	// 16-bit units and never separate a surrogate pair.
	UCS2
)

// String returns the alphabet's name.
func (a Alphabet) String() string {
	switch a {
	case GSM7:
		return "GSM7"
	case Octet:
		return "8-bit"
	case UCS2:
		return "UCS2"
	}
	return "unknown"
}

// Method is how parts of one long message are tied together on the wire.
type Method uint8

const (
	// UDH8 prefixes each part with an 8-bit-reference concatenation UDH
	// (05 00 03 ref total seq, 6 octets); the PDU needs esm_class UDHI.
	UDH8 Method = iota
	// UDH16 prefixes each part with a 16-bit-reference concatenation UDH
	// (06 08 04 ref ref total seq, 7 octets); the PDU needs esm_class UDHI.
	UDH16
	// SAR carries the reference and counters in the sar_* TLVs; parts hold
	// only text. The SMSC builds the air-interface UDH itself, so each part
	// is sized as if an 8-bit-reference UDH were present.
	SAR
)

// String returns the method's name.
func (m Method) String() string {
	switch m {
	case UDH8:
		return "UDH8"
	case UDH16:
		return "UDH16"
	case SAR:
		return "SAR"
	}
	return "unknown"
}

// Segment identifies one part of a concatenated message, whichever carrier
// brought it: Ref is shared by all parts (8-bit references are zero
// extended), Total is 1..255 and Seq runs 1..Total. It is also the SAR value
// triple (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum).
type Segment struct {
	Ref   uint16
	Total uint8
	Seq   uint8
}

// Validate reports ErrTotalZero, ErrSeqZero or ErrSeqBeyondTotal for a
// segment no conforming peer sends, and nil otherwise.
func (s Segment) Validate() error {
	switch {
	case s.Total == 0:
		return ErrTotalZero
	case s.Seq == 0:
		return ErrSeqZero
	case s.Seq > s.Total:
		return ErrSeqBeyondTotal
	}
	return nil
}

// MaxParts is the largest number of parts one message can have: the
// counters are single octets (3GPP 23.040 §9.2.3.24.1, SMPP 3.4
// §5.3.2.23).
const MaxParts = 255

// UserDataOctets is the GSM air-interface user data size (140 octets) that
// every single SMS and every part has to fit (3GPP 23.040 §9.2.3.24).
const UserDataOctets = 140
