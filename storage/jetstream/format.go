package jetstream

import (
	"encoding/binary"
	"errors"
	"sync"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Journal entry kinds: one per store write (docs/adr/0004-cluster-jetstream.md).
// A batch is entries back to back, each: u32 length of kind+payload, kind,
// payload. Numbers are little-endian; a byte string is a u32 length and
// its octets.
const (
	kPut byte = iota + 1 // record, flags (putBody, putUp), body, rewritten addresses
	kState
	kAccepted
	kReplaced
	kDelete
	kUpstream
	kUpstreamOf
	kHold
	kRelease
	kAck
	kLedger
	kDead
	kCallback
	kCallbackDel
	kFloor
	kFrom  // in a base only (compact.go): the node the entries after it came from
	kSpill // message id: on a shared connector queue (spilled.go)
	// kTried: held item's cluster key: its node won the item's claim and
	// delivers it (written before the delivery, views.go mark); a later
	// lease elsewhere without its ack or release between is a possible
	// duplicate.
	kTried
)

// kPut's flags. Entries written before putUp existed hold 0 or 1.
const (
	putBody byte = 1 << iota // the message body follows
	putUp                    // then the addresses the policy rewrote (storage.Record.Rewritten)
)

var errShort = errors.New("jetstream: journal entry truncated")

// appendUpAddrs encodes r's rewritten addresses.
func appendUpAddrs(b []byte, r *storage.Record) []byte {
	b = append(b, r.UpSourceTON, r.UpSourceNPI, r.UpDestTON, r.UpDestNPI)
	b = appendBytes(b, r.UpSource[:min(int(r.UpSourceLen), storage.MaxAddr)])
	return appendBytes(b, r.UpDest[:min(int(r.UpDestLen), storage.MaxAddr)])
}

// upAddrs decodes appendUpAddrs's encoding into r.
func (d *reader) upAddrs(r *storage.Record) {
	r.Rewritten = true
	r.UpSourceTON, r.UpSourceNPI, r.UpDestTON, r.UpDestNPI = d.u8(), d.u8(), d.u8(), d.u8()
	r.UpSourceLen = uint8(copy(r.UpSource[:], d.bytes()))
	r.UpDestLen = uint8(copy(r.UpDest[:], d.bytes()))
}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }
func appendBytes(b, p []byte) []byte      { return append(appendU32(b, uint32(len(p))), p...) }
func appendStr(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

// appendRecord encodes r.
func appendRecord(b []byte, r *storage.Record) []byte {
	b = appendU64(b, uint64(r.ID))
	b = appendStr(b, r.SystemID)
	b = append(b, byte(r.State))
	b = appendU16(b, r.Err)
	b = append(b, r.RegisteredDelivery, r.DataCoding, r.ESMClass, r.SourceTON, r.SourceNPI, r.DestTON, r.DestNPI, r.Parts)
	b = append(b, r.SourceLen, r.DestLen, r.TextLen)
	b = append(b, r.Source[:]...)
	b = append(b, r.Dest[:]...)
	b = append(b, r.Text[:]...)
	b = appendU32(b, uint32(r.Connector))
	b = appendU64(b, uint64(r.Submitted))
	b = appendU64(b, uint64(r.Done))
	b = appendU64(b, uint64(r.Expires))
	b = appendU64(b, uint64(r.Charge))
	b = appendU16(b, r.ChargeParts)
	return appendStr(b, r.MTRoute)
}

// reader decodes one entry's payload; the first short read sets err and
// every later read returns zero values.
type reader struct {
	p   []byte
	err error
}

func (d *reader) take(n int) []byte {
	if d.err != nil || len(d.p) < n {
		d.err = errShort
		return nil
	}
	v := d.p[:n]
	d.p = d.p[n:]
	return v
}

func (d *reader) u8() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *reader) u16() uint16 {
	if v := d.take(2); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (d *reader) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *reader) u64() uint64 {
	if v := d.take(8); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (d *reader) bytes() []byte { return d.take(int(d.u32())) }
func (d *reader) str() string   { return string(d.bytes()) }

// record decodes appendRecord's encoding into r.
func (d *reader) record(r *storage.Record) {
	r.ID = msg.ID(d.u64())
	r.SystemID = d.str()
	r.State = msg.State(d.u8())
	r.Err = d.u16()
	r.RegisteredDelivery, r.DataCoding, r.ESMClass = d.u8(), d.u8(), d.u8()
	r.SourceTON, r.SourceNPI, r.DestTON, r.DestNPI, r.Parts = d.u8(), d.u8(), d.u8(), d.u8(), d.u8()
	r.SourceLen, r.DestLen, r.TextLen = d.u8(), d.u8(), d.u8()
	copy(r.Source[:], d.take(storage.MaxAddr))
	copy(r.Dest[:], d.take(storage.MaxAddr))
	copy(r.Text[:], d.take(storage.MaxText))
	r.Connector = int32(d.u32())
	r.Submitted = int64(d.u64())
	r.Done = int64(d.u64())
	r.Expires = int64(d.u64())
	r.Charge = int64(d.u64())
	r.ChargeParts = d.u16()
	r.MTRoute = d.route()
}

// route decodes an [[mt_route]] name, shared with the earlier entries
// that named it (routes are few; a record keeps a shared string).
func (d *reader) route() string {
	b := d.bytes()
	if len(b) == 0 {
		return ""
	}
	routeMu.Lock()
	defer routeMu.Unlock()
	if s, ok := routes[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(routes) < maxRoutes {
		routes[s] = s
	}
	return s
}

// routes interns route names read from the journal, bounded in case of a
// journal naming many.
var (
	routeMu sync.Mutex
	routes  = make(map[string]string)
)

const maxRoutes = 4096

// appendHeld encodes a held item under its cluster-wide key g.
// heldLeased, in a held item's kind octet, says its producer holds it
// leased (it is delivering it now): other nodes wait for its release.
const heldLeased = 0x80

func appendHeld(b []byte, g uint64, h *storage.Held) []byte {
	b = appendU64(b, g)
	b = appendStr(b, h.SystemID)
	kind := byte(h.Kind)
	if h.LeaseUntil > 0 {
		kind |= heldLeased
	}
	b = append(b, kind)
	b = appendU64(b, uint64(h.ID))
	b = appendU64(b, uint64(h.Expires))
	b = appendU32(b, uint32(h.Attempts))
	return appendBytes(b, h.Body)
}

// held reads a held item; leased reports heldLeased.
func (d *reader) held(h *storage.Held) (g uint64, leased bool) {
	g = d.u64()
	h.SystemID = d.str()
	kind := d.u8()
	h.Kind, leased = storage.HeldKind(kind&^heldLeased), kind&heldLeased != 0
	h.ID = msg.ID(d.u64())
	h.Expires = int64(d.u64())
	h.Attempts = int(d.u32())
	h.Body = d.bytes()
	return g, leased
}

func appendDead(b []byte, dl *storage.DeadLetter) []byte {
	b = append(b, byte(dl.Kind))
	b = appendU32(b, uint32(dl.Connector))
	b = appendStr(b, dl.SystemID)
	b = appendU64(b, uint64(dl.ID))
	b = appendStr(b, dl.Reason)
	b = appendBytes(b, dl.Body)
	return appendU64(b, uint64(dl.At))
}

func (d *reader) dead(dl *storage.DeadLetter) {
	dl.Kind = storage.HeldKind(d.u8())
	dl.Connector = int32(d.u32())
	dl.SystemID = d.str()
	dl.ID = msg.ID(d.u64())
	dl.Reason = d.str()
	dl.Body = d.bytes()
	dl.At = int64(d.u64())
}

func appendCallback(b []byte, c *storage.Callback) []byte {
	b = appendU64(b, uint64(c.ID))
	b = append(b, c.Level, c.Method, c.Done)
	b = appendStr(b, c.URL)
	return appendU64(b, uint64(c.Expires))
}

func (d *reader) callback(c *storage.Callback) {
	c.ID = msg.ID(d.u64())
	c.Level, c.Method, c.Done = d.u8(), d.u8(), d.u8()
	c.URL = d.str()
	c.Expires = int64(d.u64())
}
