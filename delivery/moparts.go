package delivery

import (
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// With Options.Durable a part of a concatenated MO is held in the store
// (under partsQueue) before the Reassembler takes it, so its upstream's
// ESME_ROK (given after Sync) never covers a part that lives only in
// memory. The held copies of a set go once its whole MO is kept (or pushed
// to its URL route), or when the set leaves incomplete. At Start the
// parts a previous run left are fed to the Reassembler again, at their
// arrival times: a set whose other parts come later completes, one past
// ReassemblyTimeout is dropped (counted) as it would have been.

// partsQueue is the held-item queue (storage.Held.SystemID) of MO parts:
// a name no system_id can be (accounts allows no control characters), so
// no receiver ever leases them.
const partsQueue = "\x00mo-parts"

// partVersion is the first octet of a held part's body.
const partVersion = 1

// errBadPart: a held part's body cannot be read (a newer format, or
// damage): it is dropped, counted and logged.
var errBadPart = errors.New("delivery: held MO part unreadable")

// partSet names one incomplete MO in the Reassembler.
type partSet struct {
	key moKey
	ref uint16
}

// partKeys tracks the held copies of each incomplete set's parts (guarded
// by the moAssembler's mu).
type partKeys struct {
	sets map[partSet][]storage.HeldKey
	pool sync.Pool // *[]storage.HeldKey
}

func (p *partKeys) add(s partSet, k storage.HeldKey) {
	if k == 0 {
		return
	}
	if p.sets == nil {
		p.sets = make(map[partSet][]storage.HeldKey)
	}
	l, ok := p.sets[s]
	if !ok {
		if v, _ := p.pool.Get().(*[]storage.HeldKey); v != nil {
			l = (*v)[:0]
		}
	}
	p.sets[s] = append(l, k)
}

// take removes s's keys and returns them (nil when none); give them back
// with put.
func (p *partKeys) take(s partSet) []storage.HeldKey {
	l, ok := p.sets[s]
	if !ok {
		return nil
	}
	delete(p.sets, s)
	return l
}

func (p *partKeys) put(l []storage.HeldKey) {
	if cap(l) == 0 {
		return
	}
	clear(l)
	l = l[:0]
	p.pool.Put(&l)
}

// holdPart keeps in (a part of a concatenated MO for target, a user or,
// push, a URL route) in the store and returns its key; an error means it
// is not kept (its upstream is asked to send it again).
func (h *Service) holdPart(e *encoder, in *msg.Inbound, target string, push bool, received int64) (storage.HeldKey, error) {
	var err error
	e.part, err = e.encodePart(e.part[:0], in, target, push, received)
	if err != nil {
		return 0, errors.Join(ErrBadMO, err)
	}
	held := storage.Held{SystemID: partsQueue, Kind: storage.HeldMO, Body: e.part,
		Expires: received + int64(h.opts.ReassemblyTimeout) + 2*int64(sweepEvery)}
	key, err := h.holds.Hold(&held)
	if err != nil {
		h.stats.heldFull.Add(1)
		if !errors.Is(err, storage.ErrHeldFull) {
			h.noteStore(err, "hold_part", 0)
		}
		if ev := h.event(&h.warn.heldFull, zerologError); ev != nil {
			ev.Str("target", target).Err(err).Uint64("not_kept_total", h.stats.heldFull.Load()).
				Msg("hold store full or failing: MO part not kept (an upstream is asked to resend it)")
		}
		return 0, errors.Join(errNotKept, err)
	}
	return key, nil
}

// ackParts drops the held copies of a set's parts.
func (h *Service) ackParts(keys []storage.HeldKey) {
	for _, k := range keys {
		h.noteStore(h.holds.Ack(k), "ack_part", 0)
	}
}

// encodePart appends a held part's body: version, flags (1: push),
// arrival time (Unix ns, little endian), target and connector names (a
// length octet each), then the part as a deliver_sm (header included).
func (e *encoder) encodePart(dst []byte, in *msg.Inbound, target string, push bool, received int64) ([]byte, error) {
	if len(target) > 255 || len(in.Connector) > 255 {
		return dst, errBadPart
	}
	if err := e.moSM(in, nil); err != nil {
		return dst, err
	}
	var flags byte
	if push {
		flags = 1
	}
	dst = append(dst, partVersion, flags)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(received))
	dst = append(dst, byte(len(target)))
	dst = append(dst, target...)
	dst = append(dst, byte(len(in.Connector)))
	dst = append(dst, in.Connector...)
	return e.sm.Append(dst, codec.Header{CommandID: codec.DeliverSMID})
}

// decodePart reads a held part's body into in (views into b and sm) and
// returns its target and arrival time.
func decodePart(b []byte, sm *codec.SM, in *msg.Inbound) (target string, push bool, received int64, err error) {
	if len(b) < 11 || b[0] != partVersion {
		return "", false, 0, errBadPart
	}
	push = b[1]&1 != 0
	received = int64(binary.LittleEndian.Uint64(b[2:]))
	b = b[10:]
	n := int(b[0])
	if len(b) < 1+n+1 {
		return "", false, 0, errBadPart
	}
	target, b = string(b[1:1+n]), b[1+n:]
	c := int(b[0])
	if len(b) < 1+c+codec.HeaderLen {
		return "", false, 0, errBadPart
	}
	conn, body := b[1:1+c], b[1+c+codec.HeaderLen:]
	if err := sm.Decode(body); err != nil {
		return "", false, 0, errors.Join(errBadPart, err)
	}
	*in = msg.Inbound{Connector: string(conn), ServiceType: sm.ServiceType,
		SourceTON: sm.SourceAddrTON, SourceNPI: sm.SourceAddrNPI, Source: sm.SourceAddr,
		DestTON: sm.DestAddrTON, DestNPI: sm.DestAddrNPI, Dest: sm.DestinationAddr,
		ESMClass: sm.ESMClass, ProtocolID: sm.ProtocolID, Priority: sm.PriorityFlag,
		DataCoding: sm.DataCoding, ShortMessage: sm.ShortMessage, TLVs: sm.TLVs.Raw(), Received: received}
	return target, push, received, nil
}

// recoverParts feeds the parts a previous run held back to the
// Reassembler (Start, before the background goroutine). Each stays held,
// leased here, until its set is kept or dropped.
func (h *Service) recoverParts() {
	var dst [leaseBatch]storage.Held
	var sm codec.SM
	var in msg.Inbound
	until := h.now().UnixNano() + int64(h.opts.HoldLifetime)
	e := h.getEncoder()
	defer h.putEncoder(e)
	n, bad := 0, 0
	for {
		k, err := h.holds.Lease(partsQueue, until, dst[:])
		if err != nil {
			h.noteStore(err, "lease_parts", 0)
			break
		}
		for i := range k {
			d := &dst[i]
			target, push, received, err := decodePart(d.Body, &sm, &in)
			if err != nil {
				bad++
				h.ackParts([]storage.HeldKey{d.Key})
				continue
			}
			n++
			// Its upstream was answered: an error here (the whole MO not
			// kept now) leaves the parts held for the next start.
			_, _ = h.mo.join(h, e, &in, target, push, d.Key, time.Unix(0, received))
		}
		if k < len(dst) {
			break
		}
	}
	if n > 0 || bad > 0 {
		h.log.Info().Str("event", "mo_parts_recovered").Int("parts", n).Int("unreadable", bad).
			Msg("MO parts held by the previous run fed to reassembly again")
	}
}
