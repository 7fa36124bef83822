package memory

import (
	"sync"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// entry is a Record without its pointers, so the ring that holds it is
// never scanned by the garbage collector.
type entry struct {
	id        msg.ID
	submitted int64
	done      int64
	connector int32
	err       uint16
	state     msg.State
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
	live      bool      // refs holds a Live message: the receipt path and eviction skip refs without one
	later     msg.State // final state decided at acceptance, shown from done on (0: none)
	src       [storage.MaxAddr]byte
	dst       [storage.MaxAddr]byte
	text      [storage.MaxText]byte
}

// ref is a Record's pointer fields, in a ring parallel to the entries.
type ref struct {
	systemID string
	live     *msg.Message
}

// recShard is one shard of records: ents and refs form a ring in insertion
// order (head is the oldest, n the count); ix finds a slot by id. All
// fields are guarded by mu.
type recShard struct {
	mu      sync.Mutex
	ents    []entry
	refs    []ref
	head    int
	n       int
	max     int    // capacity limit of this shard
	seed    uint64 // the Store's seed, for rehashing ids
	ix      index
	evicted uint64
	expired uint64
	_       cachePad
}

func (s *Store) recHash(id msg.ID) (*recShard, uint32) {
	h := mix64(uint64(id) ^ s.seed)
	return &s.recs[h>>(64-s.recBits)], uint32(h)
}

// find returns the slot holding id, or -1. Caller holds mu.
func (sh *recShard) find(id msg.ID, tag uint32) int {
	if sh.n == 0 {
		return -1
	}
	for p := tag & sh.ix.mask; ; p = (p + 1) & sh.ix.mask {
		v := sh.ix.w[p]
		if v == 0 {
			return -1
		}
		if tagOf(v) == tag && sh.ents[slotOf(v)].id == id {
			return int(slotOf(v))
		}
	}
}

// Put stores a copy of r; a record with the same id is replaced in place
// (keeping its eviction position). A Record with Submitted 0 is stamped
// with the current time so the TTL applies to it. When r's shard is full
// its oldest record is evicted. r is not retained.
func (s *Store) Put(r *storage.Record) {
	sub := r.Submitted
	if sub == 0 {
		sub = s.now()
	}
	sh, tag := s.recHash(r.ID)
	sh.mu.Lock()
	slot := sh.find(r.ID, tag)
	if slot < 0 {
		slot = sh.add(tag)
	}
	e := &sh.ents[slot]
	e.id = r.ID
	e.submitted = sub
	e.done = r.Done
	e.connector = r.Connector
	e.err = r.Err
	e.state = r.State
	e.regDel = r.RegisteredDelivery
	e.dataCod = r.DataCoding
	e.esmClass = r.ESMClass
	e.srcTON, e.srcNPI = r.SourceTON, r.SourceNPI
	e.dstTON, e.dstNPI = r.DestTON, r.DestNPI
	// Lengths are clamped: a hand-built Record may claim more than fits.
	e.srcLen = uint8(copy(e.src[:], r.Source[:min(int(r.SourceLen), storage.MaxAddr)]))
	e.dstLen = uint8(copy(e.dst[:], r.Dest[:min(int(r.DestLen), storage.MaxAddr)]))
	e.textLen = uint8(copy(e.text[:], r.Text[:min(int(r.TextLen), storage.MaxText)]))
	e.parts = r.Parts
	e.live = r.Live != nil
	e.later = 0
	sh.refs[slot] = ref{systemID: r.SystemID, live: r.Live}
	sh.mu.Unlock()
}

// add takes a slot at the ring's tail for a new id (growing the ring or
// evicting the oldest record first when full) and indexes it under tag.
// The caller fills the slot. Caller holds mu.
func (sh *recShard) add(tag uint32) int {
	if sh.n == len(sh.ents) {
		if len(sh.ents) < sh.max {
			sh.grow()
		} else {
			sh.dropHead()
			sh.evicted++
		}
	}
	slot := sh.head + sh.n
	if slot >= len(sh.ents) {
		slot -= len(sh.ents)
	}
	sh.n++
	sh.ix.insert(tag, uint32(slot))
	return slot
}

// grow moves the ring into arrays twice the size (up to max), oldest first
// at slot 0, and rebuilds the index.
func (sh *recShard) grow() {
	size := ringNext(len(sh.ents), sh.max)
	ents := make([]entry, size)
	refs := make([]ref, size)
	k := copy(ents, sh.ents[sh.head:sh.head+min(sh.n, len(sh.ents)-sh.head)])
	copy(ents[k:], sh.ents[:sh.n-k])
	k = copy(refs, sh.refs[sh.head:sh.head+min(sh.n, len(sh.refs)-sh.head)])
	copy(refs[k:], sh.refs[:sh.n-k])
	sh.ents, sh.refs, sh.head = ents, refs, 0
	sh.reindex()
}

// reindex rebuilds the index from the ring (after a grow).
func (sh *recShard) reindex() {
	sh.ix.reset(len(sh.ents))
	for i := 0; i < sh.n; i++ {
		sh.ix.insert(uint32(mix64(uint64(sh.ents[i].id)^sh.seed)), uint32(i))
	}
}

// dropHead removes the oldest record. Caller holds mu; n > 0.
func (sh *recShard) dropHead() {
	tag := uint32(mix64(uint64(sh.ents[sh.head].id) ^ sh.seed))
	sh.ix.remove(tag, uint32(sh.head))
	sh.dropLive(sh.head) // let the GC have the message (the string is the user's, shared)
	sh.head++
	if sh.head == len(sh.ents) {
		sh.head = 0
	}
	sh.n--
}

// sweep drops expired records from the oldest end; see Store.Sweep.
func (sh *recShard) sweep(s *Store, now int64) int {
	sh.mu.Lock()
	k := 0
	for sh.n > 0 && s.expired(sh.ents[sh.head].submitted, now) {
		sh.dropHead()
		k++
	}
	sh.expired += uint64(k)
	if sh.n == 0 && sh.ents != nil {
		sh.ents, sh.refs, sh.ix = nil, nil, index{}
		sh.head = 0
	}
	sh.mu.Unlock()
	return k
}

// Get copies the record for id into out; false if id is unknown, evicted or
// older than the TTL (out is then unchanged).
func (s *Store) Get(id msg.ID, out *storage.Record) bool {
	sh, slot := s.lockFound(id)
	if slot < 0 {
		sh.mu.Unlock()
		return false
	}
	sh.copyOut(slot, out)
	if e := &sh.ents[slot]; e.later != 0 {
		s.showLater(e, out)
	}
	sh.mu.Unlock()
	return true
}

// lockFound locks id's shard and returns it with id's slot, or -1 when id
// is unknown, evicted or older than the TTL. The caller unlocks sh.mu.
func (s *Store) lockFound(id msg.ID) (sh *recShard, slot int) {
	now := s.now()
	sh, tag := s.recHash(id)
	sh.mu.Lock()
	slot = sh.find(id, tag)
	if slot >= 0 && s.expired(sh.ents[slot].submitted, now) {
		slot = -1
	}
	return sh, slot
}

// setFinal records a state (final or not) and lets go of the Live
// message. Caller holds mu.
func (sh *recShard) setFinal(slot int, st msg.State, errCode uint16, done int64) {
	e := &sh.ents[slot]
	e.state, e.err, e.done, e.later = st, errCode, done, 0
	sh.dropLive(slot)
}

// dropLive clears slot's Live message, touching refs only when it has one.
// Caller holds mu.
func (sh *recShard) dropLive(slot int) {
	if e := &sh.ents[slot]; e.live {
		sh.refs[slot].live, e.live = nil, false
	}
}

// showLater sets out's state for a record whose final state was decided at
// acceptance: ENROUTE until done, the decided state from then on (read on
// the precise clock: the store's own may be a sweep old). Caller holds mu.
func (s *Store) showLater(e *entry, out *storage.Record) {
	if e.done > s.clock() {
		out.Err, out.Done = 0, 0
		return
	}
	out.State = e.later
}

// copyOut copies slot's record into out. Caller holds mu.
func (sh *recShard) copyOut(slot int, out *storage.Record) {
	e, rf := &sh.ents[slot], sh.refs[slot]
	*out = storage.Record{
		ID:                 e.id,
		SystemID:           rf.systemID,
		State:              e.state,
		Err:                e.err,
		RegisteredDelivery: e.regDel,
		DataCoding:         e.dataCod,
		ESMClass:           e.esmClass,
		SourceTON:          e.srcTON,
		SourceNPI:          e.srcNPI,
		DestTON:            e.dstTON,
		DestNPI:            e.dstNPI,
		SourceLen:          e.srcLen,
		DestLen:            e.dstLen,
		TextLen:            e.textLen,
		Source:             e.src,
		Dest:               e.dst,
		Text:               e.text,
		Connector:          e.connector,
		Submitted:          e.submitted,
		Done:               e.done,
		Parts:              e.parts,
		Live:               rf.live,
	}
}

// Finish implements storage.Messages: SetState and Get under one lock.
func (s *Store) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) bool {
	sh, slot := s.lockFound(id)
	defer sh.mu.Unlock()
	if slot < 0 {
		return false
	}
	sh.setFinal(slot, st, errCode, done)
	e := &sh.ents[slot]
	if e.regDel != 0 {
		sh.copyOut(slot, out)
		return true
	}
	// No receipt can be asked: the fields the receipt path reads for its
	// counters, without touching refs or copying addresses.
	*out = storage.Record{ID: e.id, State: e.state, Err: e.err, Connector: e.connector, Submitted: e.submitted, Done: e.done}
	return true
}

// SetState records st, errCode and done (Unix ns, 0 while not final) for
// id and clears its Live message; false if id is unknown, evicted or older
// than the TTL.
func (s *Store) SetState(id msg.ID, st msg.State, errCode uint16, done int64) bool {
	sh, slot := s.lockFound(id)
	if slot >= 0 {
		sh.setFinal(slot, st, errCode, done)
	}
	sh.mu.Unlock()
	return slot >= 0
}

// SetAccepted implements storage.Messages.
func (s *Store) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) bool {
	sh, slot := s.lockFound(id)
	if slot >= 0 {
		sh.dropLive(slot)
		if e := &sh.ents[slot]; final != 0 && !e.state.Final() {
			e.later, e.err, e.done = final, errCode, at
		}
	}
	sh.mu.Unlock()
	return slot >= 0
}

// SetReplaced implements storage.Messages.
func (s *Store) SetReplaced(id msg.ID, r *storage.Record) bool {
	sh, slot := s.lockFound(id)
	if slot >= 0 {
		e := &sh.ents[slot]
		e.regDel, e.parts, e.submitted = r.RegisteredDelivery, r.Parts, r.Submitted
		e.textLen = uint8(copy(e.text[:], r.Text[:min(int(r.TextLen), storage.MaxText)]))
	}
	sh.mu.Unlock()
	return slot >= 0
}

// SetLive sets id's Live message to m, or clears it when m is nil; false
// if id is unknown, evicted or older than the TTL. A non-nil m replaces
// whatever Live was.
func (s *Store) SetLive(id msg.ID, m *msg.Message) bool {
	sh, slot := s.lockFound(id)
	if slot >= 0 {
		sh.refs[slot].live = m
		sh.ents[slot].live = m != nil
	}
	sh.mu.Unlock()
	return slot >= 0
}

// Delete implements storage.Messages. It frees the slot when the record is
// its shard's newest, the case of a submit refused right after its Put;
// an older record stays (false).
func (s *Store) Delete(id msg.ID) bool {
	sh, tag := s.recHash(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	slot := sh.find(id, tag)
	if slot < 0 {
		return false
	}
	tail := sh.head + sh.n - 1
	if tail >= len(sh.ents) {
		tail -= len(sh.ents)
	}
	if slot != tail {
		return false
	}
	sh.ix.remove(tag, uint32(slot))
	sh.refs[slot] = ref{}
	sh.ents[slot] = entry{}
	sh.n--
	return true
}

// WithLive implements storage.Messages.
func (s *Store) WithLive(id msg.ID, fn func(m *msg.Message)) {
	sh, slot := s.lockFound(id)
	defer sh.mu.Unlock()
	var m *msg.Message
	if slot >= 0 {
		m = sh.refs[slot].live
	}
	fn(m)
}

// Len is the number of records held, counting expired ones that Sweep has
// not reclaimed yet.
func (s *Store) Len() int {
	n := 0
	for i := range s.recs {
		sh := &s.recs[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}
