package disk

import (
	"errors"
	"fmt"
	"sync"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// recSlot is one record in a shard's slab: a storage.Record without its
// pointer (the owner is an index into the store's users) plus where its
// latest full-state entry is. The slab is never scanned by the garbage
// collector.
type recSlot struct {
	id        msg.ID
	submitted int64
	done      int64
	expires   int64
	charge    int64
	anchor    wal.Pos // 0: a free slot
	connector int32
	user      uint32
	route     uint32 // the MT route's name: its index in users plus one; 0 for none
	err       uint16
	parts16   uint16 // ChargeParts
	state     msg.State
	later     msg.State // final state decided at acceptance, shown from done on (0: none)
	flags     byte
	regDel    byte
	dataCod   byte
	esmClass  byte
	srcTON    byte
	srcNPI    byte
	dstTON    byte
	dstNPI    byte
	srcLen    uint8
	dstLen    uint8
	textLen   uint8
	parts     uint8
	src       [storage.MaxAddr]byte
	dst       [storage.MaxAddr]byte
	text      [storage.MaxText]byte
	up        int32 // the policy's rewritten addresses: 1 + their index in the shard's ups; 0 = none
}

// upAddrs are a record's rewritten addresses (storage.Record.Rewritten),
// kept out of line in the shard's ups for the few records that have them,
// so the others' slots stay small; rewritten false: none, and its entries
// carry none (fUp).
type upAddrs struct {
	rewritten      bool
	srcTON, srcNPI byte
	dstTON, dstNPI byte
	srcLen, dstLen uint8
	src, dst       [storage.MaxAddr]byte
}

// end is when the record's lifetime is over: max(Submitted, Done,
// Expires) plus ttl.
func (r *recSlot) end(ttl int64) int64 { return max(r.submitted, r.done, r.expires) + ttl }

// recShard is one shard of records: a map from id to slab slot, the slab
// and its free slots, the shard's cache of user indexes, the scratch
// buffer entries are encoded in, and the live count per segment. All under
// mu.
type recShard struct {
	mu      sync.Mutex
	ix      idIndex
	slots   slab
	free    []int32
	ups     upSlab // rewritten addresses (recSlot.up)
	users   map[string]uint32
	buf     []byte
	live    liveSegs
	byState [storage.NumStates]int
	cursor  int // where the next Sweep goes on
	added   int // slots taken since the last Sweep (sweep's keep-up share)
	expired uint64
	// bodies are the message bodies of records whose fate upstream was
	// unknown at Open (for Recover); nil once none is left.
	bodies map[msg.ID][]byte
	_      cachePad
}

func (sh *recShard) init(a *slabArena) {
	sh.ix.init()
	sh.slots.arena = a
	sh.users = make(map[string]uint32)
	sh.buf = make([]byte, 0, 512)
}

// recShard returns id's shard: the low bits of its sequence, so that
// consecutive ids spread over the shards and each shard's ids stay dense
// for its index (index.go).
func (s *Store) recShard(id msg.ID) *recShard {
	return &s.recs[(uint64(id)>>idNodeBits)&(nShards-1)]
}

// find returns id's slot if it is held and its lifetime is not over at
// now; nil otherwise. Caller holds mu.
func (sh *recShard) find(id msg.ID, now, ttl int64) *recSlot {
	i, ok := sh.ix.get(id)
	if !ok {
		return nil
	}
	r := sh.slots.at(i)
	if expired(r.end(ttl), now) {
		return nil
	}
	return r
}

// add returns a new slot for id, which is not held. Caller holds mu.
func (sh *recShard) add(id msg.ID) *recSlot {
	var i int32
	if n := len(sh.free); n > 0 {
		i = sh.free[n-1]
		sh.free = sh.free[:n-1]
	} else {
		i = sh.slots.grow()
	}
	sh.added++
	sh.ix.set(id, i)
	return sh.slots.at(i)
}

// drop frees r's slot. Caller holds mu.
func (sh *recShard) drop(r *recSlot) {
	sh.live.move(r.anchor, 0)
	sh.count(r.state, -1)
	i, _ := sh.ix.get(r.id)
	sh.ix.del(r.id)
	if sh.bodies != nil {
		sh.dropBody(r.id)
	}
	sh.ups.release(r)
	*r = recSlot{}
	sh.free = append(sh.free, i)
}

// count adds d to state st's count. Caller holds mu.
func (sh *recShard) count(st msg.State, d int) {
	if int(st) < len(sh.byState) {
		sh.byState[st] += d
	}
}

// dropBody forgets the body Open kept for id. Caller holds mu.
func (sh *recShard) dropBody(id msg.ID) {
	delete(sh.bodies, id)
	if len(sh.bodies) == 0 {
		sh.bodies = nil
	}
}

// fill sets r's fields from rec (the owner and bookkeeping aside).
func fill(r *recSlot, rec *storage.Record, sub int64) {
	r.id, r.submitted, r.done, r.expires, r.charge, r.parts16 = rec.ID, sub, rec.Done, rec.Expires, rec.Charge, rec.ChargeParts
	r.connector, r.err, r.state, r.later, r.flags = rec.Connector, rec.Err, rec.State, 0, 0
	r.regDel, r.dataCod, r.esmClass = rec.RegisteredDelivery, rec.DataCoding, rec.ESMClass
	r.srcTON, r.srcNPI, r.dstTON, r.dstNPI, r.parts = rec.SourceTON, rec.SourceNPI, rec.DestTON, rec.DestNPI, rec.Parts
	// Lengths are clamped: a hand-built Record may claim more than fits.
	r.srcLen = uint8(copy(r.src[:], rec.Source[:min(int(rec.SourceLen), storage.MaxAddr)]))
	r.dstLen = uint8(copy(r.dst[:], rec.Dest[:min(int(rec.DestLen), storage.MaxAddr)]))
	r.textLen = uint8(copy(r.text[:], rec.Text[:min(int(rec.TextLen), storage.MaxText)]))
}

// upOf sets u to rec's rewritten addresses (u.rewritten false: none).
func upOf(u *upAddrs, rec *storage.Record) {
	*u = upAddrs{}
	if rec.Rewritten {
		*u = upAddrs{rewritten: true, srcTON: rec.UpSourceTON, srcNPI: rec.UpSourceNPI, dstTON: rec.UpDestTON, dstNPI: rec.UpDestNPI}
		u.srcLen = uint8(copy(u.src[:], rec.UpSource[:min(int(rec.UpSourceLen), storage.MaxAddr)]))
		u.dstLen = uint8(copy(u.dst[:], rec.UpDest[:min(int(rec.UpDestLen), storage.MaxAddr)]))
	}
}

// errPutBusy is a Put refused for a full write buffer: storage.ErrBusy
// (the flow lets the session wait) and wal.ErrBufferFull (what it was),
// made once so that a refusal does not allocate.
var errPutBusy = fmt.Errorf("%w: %w", storage.ErrBusy, wal.ErrBufferFull)

// Put implements storage.Messages.
func (s *Store) Put(r *storage.Record) error { return s.put(r, nil) }

// PutMessage implements storage.Messages: the record and m in one entry.
func (s *Store) PutMessage(r *storage.Record, m []byte) error { return s.put(r, m) }

// put writes r (and body) as one kPut entry, with the change of its
// owner's balance, then indexes it. Not urgent: past the disk's high-water
// mark a new message is refused.
func (s *Store) put(r *storage.Record, body []byte) error {
	sub := r.Submitted
	if sub == 0 {
		sub = s.now()
	}
	sh := s.recShard(r.ID)
	sh.mu.Lock()
	var d charges
	i, held := sh.ix.get(r.ID)
	if held {
		d = charges{-sh.slots.at(i).charge, -int64(sh.slots.at(i).parts16)}
	}
	var n recSlot
	fill(&n, r, sub)
	if len(body) > 0 {
		n.flags = fBody
	}
	var u upAddrs
	upOf(&u, r)
	d.money += r.Charge
	d.parts += int64(r.ChargeParts)
	sh.buf = appendRecord(sh.buf[:0], &n, &u, r.SystemID, r.MTRoute, d, body)
	var pos wal.Pos
	var err error
	if d != (charges{}) {
		pos, err = s.led.appendCharged(r.SystemID, d, kPut, sh.buf)
	} else {
		pos, err = s.log.Append(kPut, sh.buf, false)
	}
	if err != nil {
		sh.mu.Unlock()
		if errors.Is(err, wal.ErrDiskFull) || errors.Is(err, wal.ErrFailed) {
			s.refusing.Store(true)
		}
		if errors.Is(err, wal.ErrBufferFull) {
			return errPutBusy
		}
		return err
	}
	if s.refusing.Load() {
		s.refusing.Store(false)
	}
	n.user = s.users.userIn(sh.users, r.SystemID)
	n.route = s.routeIn(sh, r.MTRoute)
	if held {
		sh.installAt(sh.slots.at(i), true, &n, &u, pos)
	} else {
		sh.installAt(sh.add(n.id), false, &n, &u, pos)
	}
	sh.mu.Unlock()
	return nil
}

// install puts n (anchored at pos) with its rewritten addresses u in its
// id's slot. Caller holds mu.
func (sh *recShard) install(n *recSlot, u *upAddrs, pos wal.Pos) {
	if i, ok := sh.ix.get(n.id); ok {
		sh.installAt(sh.slots.at(i), true, n, u, pos)
	} else {
		sh.installAt(sh.add(n.id), false, n, u, pos)
	}
}

// installAt puts n (anchored at pos) with its rewritten addresses u in
// slot r, which held id's previous record when held. Caller holds mu.
func (sh *recShard) installAt(r *recSlot, held bool, n *recSlot, u *upAddrs, pos wal.Pos) {
	// A slot from add is zero (drop clears it) and is not read: a new
	// chunk's page is then first touched by the write below and mapped
	// once, writable. A read first mapped the shared zero page and the
	// write faulted again to replace it, with a TLB flush on the other
	// CPUs (an IPI): 72,700 page faults per million messages against
	// 41,200 (BenchmarkMessage), up to 17% of smppd's CPU at 4 x 100.
	var up int32
	if held {
		sh.count(r.state, -1)
		sh.live.move(r.anchor, 0)
		up = r.up
	}
	*r = *n
	r.up = up
	sh.ups.set(r, u)
	r.anchor = pos
	sh.live.move(0, pos)
	sh.count(r.state, 1)
	if sh.bodies != nil && r.flags&fBody == 0 {
		sh.dropBody(r.id)
	}
}

// Get implements storage.Messages.
func (s *Store) Get(id msg.ID, out *storage.Record) error { return s.get(id, out, true) }

// GetStored copies the record for id into out as stored: Get without its
// view of a state decided at acceptance (State, Err and Done are the
// stored ones), so without that view's clock read. For a reader that
// takes the state from elsewhere: the CDR writer writes the final state
// it was reported. storage.ErrNotFound as Get.
func (s *Store) GetStored(id msg.ID, out *storage.Record) error { return s.get(id, out, false) }

// get is Get, with the decided state's view (showLater) when view is set.
func (s *Store) get(id msg.ID, out *storage.Record, view bool) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		sh.mu.Unlock()
		return storage.ErrNotFound
	}
	s.copyOut(sh, r, out)
	if view && r.later != 0 {
		s.showLater(r, out)
	}
	sh.mu.Unlock()
	return nil
}

// showLater sets out's state for a record whose final state was decided at
// acceptance: ENROUTE until done, the decided state from then on (on the
// precise clock).
func (s *Store) showLater(r *recSlot, out *storage.Record) {
	if r.done > s.clock() {
		out.Err, out.Done = 0, 0
		return
	}
	out.State = r.later
}

// copyOut copies r (of shard sh) into out.
func (s *Store) copyOut(sh *recShard, r *recSlot, out *storage.Record) {
	*out = storage.Record{
		ID: r.id, SystemID: s.users.name(r.user), MTRoute: s.routeName(r.route), State: r.state, Err: r.err, RegisteredDelivery: r.regDel,
		DataCoding: r.dataCod, ESMClass: r.esmClass, SourceTON: r.srcTON, SourceNPI: r.srcNPI,
		DestTON: r.dstTON, DestNPI: r.dstNPI, SourceLen: r.srcLen, DestLen: r.dstLen, TextLen: r.textLen,
		Source: r.src, Dest: r.dst, Text: r.text, Connector: r.connector, Submitted: r.submitted, Done: r.done,
		Parts: r.parts, Expires: r.expires, Charge: r.charge, ChargeParts: r.parts16,
	}
	if u := sh.ups.of(r); u != nil {
		out.Rewritten = true
		out.UpSourceTON, out.UpSourceNPI, out.UpDestTON, out.UpDestNPI = u.srcTON, u.srcNPI, u.dstTON, u.dstNPI
		out.UpSourceLen, out.UpDestLen, out.UpSource, out.UpDest = u.srcLen, u.dstLen, u.src, u.dst
	}
}

// SetState implements storage.Messages.
func (s *Store) SetState(id msg.ID, st msg.State, errCode uint16, done int64) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	_, err := s.setState(sh, id, st, errCode, done)
	sh.mu.Unlock()
	return err
}

// Finish implements storage.Messages; on storage.ErrFinal out gets the
// record as it stands.
func (s *Store) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	r, err := s.setState(sh, id, st, errCode, done)
	if r == nil {
		sh.mu.Unlock()
		return err
	}
	if r.regDel != 0 {
		s.copyOut(sh, r, out)
	} else {
		// No receipt can be asked: the fields the receipt path reads for its
		// counters, without copying addresses.
		*out = storage.Record{ID: r.id, State: r.state, Err: r.err, Connector: r.connector, Submitted: r.submitted, Done: r.done}
	}
	sh.mu.Unlock()
	return err
}

// setState logs and applies a state for id unless its recorded state is
// final already. It returns the slot (nil when id is not found) and the
// error. Caller holds sh.mu.
func (s *Store) setState(sh *recShard, id msg.ID, st msg.State, errCode uint16, done int64) (*recSlot, error) {
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		return nil, storage.ErrNotFound
	}
	if r.state.Final() {
		s.lateFinal.Add(1)
		return r, storage.ErrFinal
	}
	sh.buf = appendState(sh.buf[:0], id, st, errCode, done)
	if _, err := s.log.Append(kState, sh.buf, true); err != nil {
		return r, err
	}
	sh.applyState(r, st, errCode, done)
	return r, nil
}

// applyState records a state on r (the log has it). Caller holds mu.
func (sh *recShard) applyState(r *recSlot, st msg.State, errCode uint16, done int64) {
	sh.count(r.state, -1)
	r.state, r.err, r.done, r.later = st, errCode, done, 0
	sh.count(st, 1)
	if st.Final() {
		sh.noBody(r)
	}
}

// noBody notes that r's body is no longer needed. Caller holds mu.
func (sh *recShard) noBody(r *recSlot) {
	r.flags &^= fBody
	if sh.bodies != nil {
		sh.dropBody(r.id)
	}
}

// SetAccepted implements storage.Messages: always logged (the body is
// dropped from here on), lazily: no answer waits on it, so it rides with
// the next entry that wakes the log (wal.LazyDelay at most). Lost in a
// crash, the message is re-driven at restart as one whose fate is unknown
// (at-least-once, counted as a possible duplicate). What depends on the
// acceptance is appended after it and, once synced, implies it: the
// receipt's state and hold (the connector reports Accepted before its
// receipts; one that overtook the acceptance made the record final, which
// is never re-driven) and compaction's bodyless copy of the record.
func (s *Store) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		sh.mu.Unlock()
		return storage.ErrNotFound
	}
	sh.buf = appendState(sh.buf[:0], id, final, errCode, at)
	if _, err := s.log.AppendLazy(kAccepted, sh.buf, true); err != nil {
		sh.mu.Unlock()
		return err
	}
	sh.applyAccepted(r, final, errCode, at)
	sh.mu.Unlock()
	return nil
}

// applyAccepted notes a connector's acceptance on r. Caller holds mu.
func (sh *recShard) applyAccepted(r *recSlot, final msg.State, errCode uint16, at int64) {
	r.flags |= fAccepted
	sh.noBody(r)
	if final != 0 && !r.state.Final() {
		r.later, r.err, r.done = final, errCode, at
	}
}

// SetReplaced implements storage.Messages.
func (s *Store) SetReplaced(id msg.ID, rec *storage.Record) error {
	sub := rec.Submitted
	if sub == 0 {
		sub = s.now()
	}
	sh := s.recShard(id)
	sh.mu.Lock()
	r := sh.find(id, s.now(), s.ttl)
	if r == nil {
		sh.mu.Unlock()
		return storage.ErrNotFound
	}
	text := rec.Text[:min(int(rec.TextLen), storage.MaxText)]
	sh.buf = appendReplaced(sh.buf[:0], id, sub, rec.RegisteredDelivery, rec.Parts, text)
	if _, err := s.log.Append(kReplaced, sh.buf, true); err != nil {
		sh.mu.Unlock()
		return err
	}
	applyReplaced(r, sub, rec.RegisteredDelivery, rec.Parts, text)
	sh.mu.Unlock()
	return nil
}

func applyReplaced(r *recSlot, sub int64, regDel, parts byte, text []byte) {
	r.submitted, r.regDel, r.parts = sub, regDel, parts
	r.textLen = uint8(copy(r.text[:], text))
}

// Delete implements storage.Messages: found whatever its age, as in the
// memory store.
func (s *Store) Delete(id msg.ID) error {
	sh := s.recShard(id)
	sh.mu.Lock()
	i, ok := sh.ix.get(id)
	if !ok {
		sh.mu.Unlock()
		return storage.ErrNotFound
	}
	sh.buf = appendID(sh.buf[:0], uint64(id))
	if _, err := s.log.Append(kDelete, sh.buf, true); err != nil {
		sh.mu.Unlock()
		return err
	}
	sh.drop(sh.slots.at(i))
	sh.mu.Unlock()
	return nil
}

// Len implements storage.Messages: expired records not yet swept count.
func (s *Store) Len() int {
	n := 0
	for i := range s.recs {
		sh := &s.recs[i]
		sh.mu.Lock()
		n += sh.ix.len()
		sh.mu.Unlock()
	}
	return n
}

// sweepShare is the least share of a shard Sweep walks per call (1/64):
// at one Sweep a second every record is looked at about once a minute.
// sweepKeepUp: a call also walks this many slots for each one taken since
// the last, so the walk comes round at least as fast as the slots fill: a
// record past its lifetime is freed within a second or so, and the slab
// holds about the records of a lifetime plus a second of traffic (with the
// floor alone, a store taking more than 64 × sweepMin records a second
// kept every one for about a minute: BenchmarkSweepHeld). sweepMin is the
// floor and the most slots walked under one hold of mu.
const (
	sweepShare  = 64
	sweepKeepUp = 4
	sweepMin    = 4096
)

// sweep drops the records of sh past their lifetime at now, walking part
// of the slab from where the last call stopped, and returns how many.
func (sh *recShard) sweep(s *Store, now int64) int {
	sh.mu.Lock()
	n := sh.slots.len()
	budget := min(max(n/sweepShare, sweepMin, sh.added*sweepKeepUp), n)
	sh.added = 0
	k := 0
	for budget > 0 {
		step := min(budget, sweepMin)
		budget -= step
		for range step {
			if sh.cursor >= n {
				sh.cursor = 0
			}
			r := sh.slots.at(int32(sh.cursor))
			sh.cursor++
			if r.anchor != 0 && expired(r.end(s.ttl), now) {
				sh.drop(r)
				k++
			}
		}
		if budget > 0 { // let the loops in between pieces
			sh.mu.Unlock()
			sh.mu.Lock()
			n = sh.slots.len()
		}
	}
	sh.expired += uint64(k)
	sh.mu.Unlock()
	return k
}

// stats adds the shard's sizes and counters to st.
func (sh *recShard) stats(st *storage.Stats) {
	sh.mu.Lock()
	st.Records += sh.ix.len()
	st.Expired += sh.expired
	for i, c := range sh.byState {
		st.RecordsByState[i] += c
	}
	sh.mu.Unlock()
}
