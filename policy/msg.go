package policy

import (
	"time"

	"github.com/smppd/smppd/codec"
)

// MaxAddr is the longest address a stage may write: data_sm's 64 octets
// (SMPP 3.4 §4.7.4), which covers submit_sm's 20.
const MaxAddr = 64

// Dir is a message's direction.
type Dir uint8

// Directions.
const (
	DirMT Dir = iota // from an ESME (SMPP or the HTTP API) to a connector
	DirMO            // from a connector to an ESME or an MO url
)

// Msg is one message as every stage sees it. The caller fills it for each
// message (flow keeps one in its pooled scratch) and reads the addresses
// and fields back afterwards: a stage that rewrites an address calls SetSrc
// or SetDst, which copy into the Msg's own arrays, so the views it replaces
// are never written to.
type Msg struct {
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

	srcBuf, dstBuf [2][MaxAddr]byte
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

// SetSrc makes b the source address (copied; at most MaxAddr octets, the
// rest cut). b may be a view of the current Src.
func (m *Msg) SetSrc(b []byte) {
	buf := &m.srcBuf[m.srcN&1]
	m.srcN++
	m.Src = buf[:copy(buf[:], b)]
	m.Changed |= ChangedSrc
}

// SetDst makes b the destination address, as SetSrc.
func (m *Msg) SetDst(b []byte) {
	buf := &m.dstBuf[m.dstN&1]
	m.dstN++
	m.Dst = buf[:copy(buf[:], b)]
	m.Changed |= ChangedDst
}

// srcScratch and dstScratch are the buffers the next SetSrc/SetDst will
// not read: a stage builds a new address there and then calls Set.
func (m *Msg) srcScratch() []byte { return m.srcBuf[m.srcN&1][:0] }
func (m *Msg) dstScratch() []byte { return m.dstBuf[m.dstN&1][:0] }

// Reset clears m for the next message (the arrays are kept).
func (m *Msg) Reset() {
	*m = Msg{srcN: m.srcN, dstN: m.dstN}
}

// Drop lets go of the views m holds (the caller's buffers) and of what the
// stages set, without clearing the arrays: for a pooled Msg between
// messages.
func (m *Msg) Drop() {
	m.Src, m.Dst, m.Content, m.Tags, m.Network = nil, nil, nil, nil, ""
}

// Action is a stage's decision.
type Action uint8

// Actions.
const (
	Pass   Action = iota // go on (possibly changed)
	Refuse               // refuse with Verdict.Status
	// Wait: not decided yet (a lookup is pending). A caller that can wait
	// answers as for a full connector queue it may wait on (the engine
	// offers the PDU again); one that cannot refuses with Status.
	Wait
)

// Verdict is the outcome of a stage or of a whole policy.
type Verdict struct {
	Action Action
	Status codec.Status // Refuse and Wait
	// Stage names what decided, for logs and metrics: "normalise",
	// "sender", "list:<name>", "rule:<name>" or an added stage's name. A
	// string of the compiled policy: no allocation.
	Stage string
}

// Stage is a step another package adds after the built-in ones (Load's
// extra). Check must not allocate, block or keep m.
type Stage interface {
	Check(m *Msg) Verdict
}
