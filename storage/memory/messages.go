package memory

import (
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// entry is a Record without its pointers (the owner's system_id is in the
// table's refs) and without Submitted (the slot's stamp), so the ring
// that holds it is never scanned by the garbage collector. What an
// eviction reads (the stamp, id and up) is in the slot's first cache line.
type entry struct {
	id        msg.ID
	done      int64
	expires   int64
	charge    int64
	connector int32
	up        int32  // the policy's rewritten addresses: 1 + their index in the table's upSlab; 0 = none
	user      uint32 // SystemID's number in the store's names (names.go); 0 = ""
	route     uint32 // MTRoute's, the same way
	err       uint16
	parts16   uint16 // ChargeParts
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
	later     msg.State // final state decided at acceptance, shown from done on (0: none)
	src       [storage.MaxAddr]byte
	dst       [storage.MaxAddr]byte
	text      [storage.MaxText]byte
}

// recTable is one shard of records. A record has no pointer fields: its
// owner's system_id and its MT route's name are numbers (names.go).
type recTable = table[entry, struct{}]

// recHash returns id's table and its tag in that table's index. An id is
// a millisecond slot and a sequence above its node bits, issued in runs of
// msg.IDRun consecutive values, each run by one event loop (msg/idrun.go),
// so id>>idNodeBits counts up within a run. recKey keeps a run on one
// table and sends consecutive runs round the tables: one loop's Puts of a
// run take one lock and write the table's ring slots and index words one
// after the other (lines the other core does not write meanwhile, and a
// sequence the hardware prefetcher follows), where spreading consecutive
// ids over the tables made every Put touch another table's lock, slot and
// index line, each shared with the other loop's Puts. Within a table the
// tag is the id's position in the table's sequence, doubled: its ids take
// every other index word, so the insert, the lookups and the eviction of
// the oldest touch lines their neighbours share, and no run of occupied
// words forms (the index is at most half full), which a removal
// (index.remove) would walk to its end.
func (s *Store) recHash(id msg.ID) (*recTable, uint32) {
	x := s.recKey(id)
	return &s.recs[x&(1<<s.recBits-1)], uint32(x>>s.recBits) << 1
}

// rewritesOf is the upSlab of id's table (recHash), under its mu.
func (s *Store) rewritesOf(id msg.ID) *upSlab {
	return &s.rewrites[s.recKey(id)&(1<<s.recBits-1)]
}

// namesOf is the nameCache of id's table (recHash), under its mu.
func (s *Store) namesOf(id msg.ID) *nameCache {
	return &s.recNames[s.recKey(id)&(1<<s.recBits-1)]
}

// recKey is id's counter with the low recBits bits of its run number (the
// table) moved to the bottom, plus the node folded in (times an odd
// constant, so ids that differ only there still spread): its low recBits
// bits pick the table, the rest is the position in the table's sequence.
// A run here is 1<<runBits ids, a part of msg.IDRun.
func (s *Store) recKey(id msg.ID) uint64 {
	u := uint64(id) >> idNodeBits
	run := u >> s.runBits
	pos := run>>s.recBits<<s.runBits | u&(1<<s.runBits-1)
	return pos<<s.recBits | run&(1<<s.recBits-1) + (uint64(id)&msg.MaxNodeID)*0x9e3779b97f4a7c15
}

// idRunBits is log2(msg.IDRun); the array length fails to compile if msg
// changes it.
const idRunBits = 6

// recRunBits is log2 of the ids a record table takes in a row: msg.IDRun,
// or less so that the smallest table holds at least 8 runs (a table full
// of runs it cannot hold would evict while the store is nearly empty).
func recRunBits(minCap int) uint {
	b := uint(0)
	for b < idRunBits && 8<<(b+1) <= minCap {
		b++
	}
	return b
}

var _ = [1]struct{}{}[msg.IDRun-1<<idRunBits]

// idNodeBits is the width of msg.ID's node field; the array length fails
// to compile if msg changes it.
const idNodeBits = 12

var _ = [1]struct{}{}[msg.MaxNodeID+1-1<<idNodeBits]

// recTag is the record tables' tagOf: the tag recHash gives e's id.
func (s *Store) recTag(_ uint64, e *entry) uint32 { return uint32(s.recKey(e.id)>>s.recBits) << 1 }

// findRec returns the slot holding id, or -1. Caller holds mu.
func findRec(t *recTable, id msg.ID, tag uint32) int {
	for p := tag; ; {
		s := t.ix.next(tag, &p)
		if s < 0 || t.ents[s].v.id == id {
			return s
		}
	}
}

// Put stores a copy of r; a record with the same id is replaced in place
// (keeping its eviction position). A Record with Submitted 0 is stamped
// with the current time so the TTL applies to it. When r's shard is full
// its oldest record is evicted. r.Charge goes to the ledger (see
// storage.Messages.Put). r is not retained; Put never fails.
func (s *Store) Put(r *storage.Record) error {
	sub := r.Submitted
	if sub == 0 {
		sub = s.now()
	}
	t, tag := s.recHash(r.ID)
	t.mu.Lock()
	sl := findRec(t, r.ID, tag)
	charged, chargedParts := int64(0), uint16(0)
	if sl < 0 {
		sl = t.add(tag, sub)
	} else {
		charged, chargedParts = t.ents[sl].v.charge, t.ents[sl].v.parts16
	}
	t.ents[sl].at = sub
	e := &t.ents[sl].v
	e.id = r.ID
	e.done = r.Done
	e.expires = r.Expires
	e.charge, e.parts16 = r.Charge, r.ChargeParts
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
	e.later = 0
	s.rewritesOf(r.ID).set(&e.up, r)
	e.user, e.route = s.namesOf(r.ID).ids(&s.names, r.SystemID, r.MTRoute)
	t.mu.Unlock()
	if d, dp := r.Charge-charged, int64(r.ChargeParts)-int64(chargedParts); d != 0 || dp != 0 {
		s.ledger.charge(r.SystemID, d, dp)
	}
	return nil
}

// PutMessage implements storage.Messages: Put, keeping no body (nothing
// here survives a restart to send it again).
func (s *Store) PutMessage(r *storage.Record, _ []byte) error { return s.Put(r) }

// Get copies the record for id into out; storage.ErrNotFound if id is
// unknown, evicted or older than the TTL (out is then unchanged).
func (s *Store) Get(id msg.ID, out *storage.Record) error { return s.get(id, out, true) }

// GetStored copies the record for id into out as stored: Get without its
// view of a state decided at acceptance (State, Err and Done are the
// stored ones), so without that view's clock read. For a reader that
// takes the state from elsewhere: the CDR writer writes the final state
// it was reported. storage.ErrNotFound as Get.
func (s *Store) GetStored(id msg.ID, out *storage.Record) error { return s.get(id, out, false) }

// get is Get, with the decided state's view (showLater) when view is set.
func (s *Store) get(id msg.ID, out *storage.Record, view bool) error {
	t, sl := s.lockFound(id)
	if sl < 0 {
		t.mu.Unlock()
		return storage.ErrNotFound
	}
	s.copyOut(t, s.rewritesOf(id), sl, out)
	if e := &t.ents[sl].v; view && e.later != 0 {
		s.showLater(e, out)
	}
	t.mu.Unlock()
	return nil
}

// lockFound locks id's shard and returns it with id's slot, or -1 when id
// is unknown, evicted or older than the TTL. The caller unlocks t.mu.
func (s *Store) lockFound(id msg.ID) (t *recTable, sl int) {
	now := s.now()
	t, tag := s.recHash(id)
	t.mu.Lock()
	sl = findRec(t, id, tag)
	if sl >= 0 && s.expired(t.ents[sl].at, now) {
		sl = -1
	}
	return t, sl
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

// copyOut copies slot sl's record (its rewritten addresses in rw) into
// out. Caller holds mu.
func (s *Store) copyOut(t *recTable, rw *upSlab, sl int, out *storage.Record) {
	e := &t.ents[sl].v
	*out = storage.Record{
		ID:                 e.id,
		SystemID:           s.names.name(e.user),
		MTRoute:            s.names.name(e.route),
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
		Submitted:          t.ents[sl].at,
		Done:               e.done,
		Parts:              e.parts,
		Expires:            e.expires,
		Charge:             e.charge,
		ChargeParts:        e.parts16,
	}
	rw.copyTo(e.up, out)
}

// Finish implements storage.Messages: SetState and Get under one lock.
// On storage.ErrFinal out gets the record as it stands.
func (s *Store) Finish(id msg.ID, st msg.State, errCode uint16, done int64, out *storage.Record) error {
	t, sl := s.lockFound(id)
	defer t.mu.Unlock()
	if sl < 0 {
		return storage.ErrNotFound
	}
	e := &t.ents[sl].v
	err := s.setState(e, st, errCode, done)
	if e.regDel != 0 {
		s.copyOut(t, s.rewritesOf(id), sl, out)
		return err
	}
	// No receipt can be asked: the fields the receipt path reads for its
	// counters, without touching refs or copying addresses.
	*out = storage.Record{ID: e.id, State: e.state, Err: e.err, Connector: e.connector, Submitted: t.ents[sl].at, Done: e.done}
	return err
}

// SetState records st, errCode and done (Unix ns, 0 while not final) for
// id; storage.ErrNotFound if id is unknown, evicted or older than the TTL,
// storage.ErrFinal if its recorded state is final.
func (s *Store) SetState(id msg.ID, st msg.State, errCode uint16, done int64) error {
	t, sl := s.lockFound(id)
	if sl < 0 {
		t.mu.Unlock()
		return storage.ErrNotFound
	}
	err := s.setState(&t.ents[sl].v, st, errCode, done)
	t.mu.Unlock()
	return err
}

// setState records a state unless e's recorded state is final already
// (the first final state wins). Caller holds e's shard lock.
func (s *Store) setState(e *entry, st msg.State, errCode uint16, done int64) error {
	if e.state.Final() {
		s.lateFinal.Add(1)
		return storage.ErrFinal
	}
	e.state, e.err, e.done, e.later = st, errCode, done, 0
	return nil
}

// SetAccepted implements storage.Messages.
func (s *Store) SetAccepted(id msg.ID, final msg.State, errCode uint16, at int64) error {
	t, sl := s.lockFound(id)
	if sl >= 0 {
		if e := &t.ents[sl].v; final != 0 && !e.state.Final() {
			e.later, e.err, e.done = final, errCode, at
		}
	}
	t.mu.Unlock()
	return found(sl)
}

// SetReplaced implements storage.Messages.
func (s *Store) SetReplaced(id msg.ID, r *storage.Record) error {
	sub := r.Submitted
	if sub == 0 {
		sub = s.now()
	}
	t, sl := s.lockFound(id)
	if sl >= 0 {
		e := &t.ents[sl].v
		e.regDel, e.parts, t.ents[sl].at = r.RegisteredDelivery, r.Parts, sub
		e.textLen = uint8(copy(e.text[:], r.Text[:min(int(r.TextLen), storage.MaxText)]))
	}
	t.mu.Unlock()
	return found(sl)
}

// Delete implements storage.Messages. The newest record of its shard (the
// case of a submit refused right after its Put) frees its slot; an older
// one leaves a dead slot in the ring until eviction or Sweep reaches it.
func (s *Store) Delete(id msg.ID) error {
	t, tag := s.recHash(id)
	t.mu.Lock()
	sl := findRec(t, id, tag)
	if sl >= 0 {
		t.remove(sl)
	}
	t.mu.Unlock()
	return found(sl)
}

// Len is the number of records held, counting expired ones that Sweep has
// not reclaimed yet.
func (s *Store) Len() int {
	n, _, _ := tableStats(s.recs)
	return n
}

// found is the error for a lookup's slot: storage.ErrNotFound for -1.
func found(sl int) error {
	if sl < 0 {
		return storage.ErrNotFound
	}
	return nil
}

// recordsByState counts the live records of ts by recorded state, taking
// each lock in turn: for Stats, not per message.
func recordsByState(ts []recTable) [storage.NumStates]int {
	var by [storage.NumStates]int
	for i := range ts {
		t := &ts[i]
		t.mu.Lock()
		for k := range t.n {
			if sl := &t.ents[t.pos(k)]; sl.at != 0 && int(sl.v.state) < len(by) {
				by[sl.v.state]++
			}
		}
		t.mu.Unlock()
	}
	return by
}
