package policy

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// MaxAddr is the longest address a stage may write: data_sm's 64 octets
// (SMPP 3.4 §4.7.4), which covers submit_sm's 20.
const MaxAddr = msg.MaxEnvelopeAddr

// Dir is a message's direction.
type Dir = msg.Dir

// Directions.
const (
	DirMT = msg.DirMT // from an ESME (SMPP or the HTTP API) to a connector
	DirMO = msg.DirMO // from a connector to an ESME or an MO url
)

// Msg is one message as every stage sees it: msg.Envelope, which the MT
// hub shares with the policy without importing it. The caller fills it for
// each message and reads the addresses and fields back afterwards; a stage
// that rewrites an address builds it in SrcScratch or DstScratch and calls
// SetSrc or SetDst, which copy into the Msg's own arrays, so the views it
// replaces are never written to.
type Msg = msg.Envelope

// Changed is a bit set of the fields the stages wrote.
type Changed = msg.Changed

// Changed bits.
const (
	ChangedSrc        = msg.ChangedSrc
	ChangedDst        = msg.ChangedDst
	ChangedPriority   = msg.ChangedPriority
	ChangedDataCoding = msg.ChangedDataCoding
	ChangedValidity   = msg.ChangedValidity
)

// Action is a stage's decision.
type Action = msg.Action

// Actions.
const (
	Pass   = msg.Pass   // go on (possibly changed)
	Refuse = msg.Refuse // refuse with Verdict.Status
	// Wait: not decided yet (a lookup is pending). A caller that can wait
	// answers as for a full connector queue it may wait on (the engine
	// offers the PDU again); one that cannot refuses with Status.
	Wait = msg.Wait
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
