package flow

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// With Options.Durable and Options.Holds, each destination of a
// submit_multi is held in the store (queue MultiQueue) from before its
// record is written until its connector settles it: accepted upstream,
// failed, or refused here (a destination the ESME finds in unsuccess_sme).
// One id names every destination and one record stands for them all, so
// the record (which then keeps no body) cannot say which destinations are
// still to send; the held copies can. The next start sends again every
// destination still held (Recover), and none an upstream accepted. A
// connector stopping keeps its destinations held for the next start.

// MultiQueue is the held-item queue (storage.Held.SystemID) of
// submit_multi destinations: a name no system_id can be (accounts allows
// no control characters), so no receiver ever leases them. The store's
// per-user share (storage.HeldLimit) should not apply to it.
const MultiQueue = "\x00multi"

// destVersion is the first octet of a held destination's body: version,
// the destination's charge (micro-units, quota parts; varints), then its
// message's binary form (msg.Message.AppendBinary).
const destVersion = 1

var errBadDest = errors.New("flow: held submit_multi destination unreadable")

// multiCopies maps each destination being sent to its held copy.
type multiCopies struct {
	mu   sync.Mutex
	keys map[*msg.Message]storage.HeldKey
	buf  []byte
}

// holdsDests reports whether m is a destination whose copy is held.
func (h *Hub) holdsDests(m *msg.Message) bool {
	return h.opts.Durable && h.opts.Holds != nil && m.Command == uint32(codec.SubmitMultiID)
}

// holdDest keeps m (a destination about to be queued; bin its binary
// form) in the store, in place of the copy of an earlier attempt
// (failover). An error means it is not kept: the destination is refused.
func (h *Hub) holdDest(m *msg.Message, bin []byte, now int64) error {
	mc := &h.multi
	var micros, parts int64
	if b, ok := m.Owner.(*chargeBox); ok {
		micros, parts = b.c.Micros(), b.c.Parts()
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.buf = append(mc.buf[:0], destVersion)
	mc.buf = binary.AppendVarint(mc.buf, micros)
	mc.buf = binary.AppendVarint(mc.buf, parts)
	mc.buf = append(mc.buf, bin...)
	held := storage.Held{SystemID: MultiQueue, Kind: storage.HeldMO, ID: m.ID, Body: mc.buf,
		Expires: max(m.Expires, now) + int64(h.opts.DefaultValidity)}
	key, err := h.opts.Holds.Hold(&held)
	if err != nil {
		return err
	}
	if old, ok := mc.keys[m]; ok {
		h.ackDest(m.ID, old)
	}
	if mc.keys == nil {
		mc.keys = make(map[*msg.Message]storage.HeldKey)
	}
	mc.keys[m] = key
	return nil
}

// settleDest forgets m's held copy; ack removes it from the store too
// (without: a stopping connector's destination stays for the next start).
func (h *Hub) settleDest(m *msg.Message, ack bool) {
	if !h.holdsDests(m) {
		return
	}
	mc := &h.multi
	mc.mu.Lock()
	key, ok := mc.keys[m]
	delete(mc.keys, m)
	mc.mu.Unlock()
	if ok && ack {
		h.ackDest(m.ID, key)
	}
}

// ackDest removes a held copy; one the store cannot remove now waits in
// memory (unkept.go): a crash meanwhile sends that destination again.
func (h *Hub) ackDest(id msg.ID, key storage.HeldKey) {
	err := h.opts.Holds.Ack(key)
	h.noteStore(err, "ack_dest", id)
	if storeFailed(err) {
		h.unkeptWrite(unkeptState{id: id, ack: key}, err)
	}
}

// recoverDests sends again every destination a previous run held (Recover).
func (h *Hub) recoverDests(now int64) {
	if !h.opts.Durable || h.opts.Holds == nil {
		return
	}
	var dst [64]storage.Held
	until := now + int64(100*365*24*time.Hour) // held here until settled
	for {
		n, err := h.opts.Holds.Lease(MultiQueue, until, dst[:])
		if err != nil {
			h.noteStore(err, "lease_dests", 0)
			return
		}
		for i := range n {
			h.redriveDest(&dst[i], now)
		}
		if n < len(dst) {
			return
		}
	}
}

// redriveDest sends one held destination again (its body is valid during
// the call only).
func (h *Hub) redriveDest(d *storage.Held, now int64) {
	m := msg.NewMessage()
	micros, parts, err := decodeDest(d.Body, m)
	if err != nil {
		m.Release()
		h.noteStore(err, "recover_dest", d.ID)
		h.ackDest(d.ID, d.Key) // unreadable: it cannot be sent
		return
	}
	h.keepCharge(m, h.accounts.Recharged(m.SystemID, micros, parts))
	h.multi.mu.Lock()
	if h.multi.keys == nil {
		h.multi.keys = make(map[*msg.Message]storage.HeldKey)
	}
	h.multi.keys[m] = d.Key
	h.multi.mu.Unlock()
	if m.Expires != 0 && m.Expires <= now {
		h.Failed(m, 0, msg.StateExpired)
		m.Release()
		return
	}
	if !h.routeAgain(m) {
		h.Failed(m, uint32(RefuseNoRoute.status()), msg.StateUndeliverable)
		m.Release()
		return
	}
	h.stats.redriven.Add(1)
	if m.Schedule <= now {
		h.stats.redrivenDup.Add(1)
	}
	h.later.add(m, max(m.Schedule, now), false)
}

func decodeDest(b []byte, m *msg.Message) (micros, parts int64, err error) {
	if len(b) == 0 || b[0] != destVersion {
		return 0, 0, errBadDest
	}
	b = b[1:]
	micros, n := binary.Varint(b)
	if n <= 0 {
		return 0, 0, errBadDest
	}
	b = b[n:]
	parts, n = binary.Varint(b)
	if n <= 0 {
		return 0, 0, errBadDest
	}
	if err := m.UnmarshalBinary(b[n:]); err != nil {
		return 0, 0, errors.Join(errBadDest, err)
	}
	return micros, parts, nil
}
