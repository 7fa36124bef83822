package msg

import "time"

// MaxEnvelopeAddr is the longest address a stage may write into an
// Envelope: data_sm's 64 octets (SMPP 3.4 §4.7.4), which covers
// submit_sm's 20.
const MaxEnvelopeAddr = 64

// Dir is a message's direction.
type Dir uint8

// Directions.
const (
	DirMT Dir = iota // from an ESME (SMPP or the HTTP API) to a connector
	DirMO            // from a connector to an ESME or an MO url
)

// Envelope is one message as the traffic policy's stages see it (package
// policy calls it Msg). It lives here so that the MT hub, which fills it,
// and the policy, which reads and rewrites it, share it without importing
// each other. The caller fills it for each message (flow keeps one in its
// pooled scratch) and reads the addresses and fields back afterwards: a
// stage that rewrites an address calls SetSrc or SetDst, which copy into
// the Envelope's own arrays, so the views it replaces are never written to.
type Envelope struct {
	Dir         Dir
	User, Group string // MT: the submitter; MO: empty
	Connector   string // MO: the connector it arrived on; MT: empty (policy runs before routing)

	SrcTON, SrcNPI uint8
	Src            []byte
	DstTON, DstNPI uint8
	Dst            []byte

	DataCoding uint8
	Priority   uint8
	Content    []byte
	Now        time.Time

	// UserSources: the user has its own source_addrs, which the caller
	// checked; the group and global sender levels then do not apply.
	UserSources bool
	// SrcDefaulted: the caller put the user's default_source in Src: the
	// operator's value, not the ESME's, so the sender levels leave it.
	SrcDefaulted bool
	// MayWait: the caller can answer Wait (an SMPP session that may wait
	// for room); otherwise a stage decides now.
	MayWait bool

	// Set by the stages.
	Validity time.Duration // a rule's validity; 0 = unchanged
	Tags     []string      // the matched rule's tags (shared, read-only); routes' tags filter reads them
	Network  string        // the destination's network, for routes' networks filter
	Changed  Changed       // what the stages changed, for the caller's copy-back

	srcBuf, dstBuf [2][MaxEnvelopeAddr]byte
	srcN, dstN     uint8 // which buffer the next Set writes
}

// Changed is a bit set of the fields the stages wrote.
type Changed uint8

// Changed bits.
const (
	ChangedSrc Changed = 1 << iota
	ChangedDst
	ChangedPriority
	ChangedDataCoding
	ChangedValidity
)

// Action is what a stage decided about a message.
type Action uint8

// Actions.
const (
	Pass   Action = iota // go on (possibly changed)
	Refuse               // refuse with the stage's status
	// Wait: not decided yet (a lookup is pending). A caller that can wait
	// answers as for a full connector queue it may wait on (the engine
	// offers the PDU again); one that cannot refuses with the status.
	Wait
)

// SetSrc makes b the source address (copied; at most MaxEnvelopeAddr
// octets, the rest cut). b may be a view of the current Src.
func (m *Envelope) SetSrc(b []byte) {
	buf := &m.srcBuf[m.srcN&1]
	m.srcN++
	m.Src = buf[:copy(buf[:], b)]
	m.Changed |= ChangedSrc
}

// SetDst makes b the destination address, as SetSrc.
func (m *Envelope) SetDst(b []byte) {
	buf := &m.dstBuf[m.dstN&1]
	m.dstN++
	m.Dst = buf[:copy(buf[:], b)]
	m.Changed |= ChangedDst
}

// SrcScratch and DstScratch are the buffers the next SetSrc/SetDst will
// not read: a stage builds a new address there and then calls Set.
func (m *Envelope) SrcScratch() []byte { return m.srcBuf[m.srcN&1][:0] }

// DstScratch: see SrcScratch.
func (m *Envelope) DstScratch() []byte { return m.dstBuf[m.dstN&1][:0] }

// Reset clears m for the next message (the arrays are kept).
func (m *Envelope) Reset() {
	*m = Envelope{srcN: m.srcN, dstN: m.dstN}
}

// Drop lets go of the views m holds (the caller's buffers) and of what the
// stages set, without clearing the arrays: for a pooled Envelope between
// messages.
func (m *Envelope) Drop() {
	m.Src, m.Dst, m.Content, m.Tags, m.Network = nil, nil, nil, nil, ""
}
