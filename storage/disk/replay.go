package disk

import (
	"slices"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// replayLog rebuilds the index from the log, oldest entry first, applying
// each entry as the write that made it did (the checks that refused writes
// were made before they were logged). An entry for an object no longer
// known changes nothing: its full state was compacted into a later entry
// that comes after it. An entry that does not decode is counted, logged
// and skipped.
func (s *Store) replayLog() error {
	var scratch recSlot
	var h storage.Held
	var d storage.DeadLetter
	bad := uint64(0)
	rs, err := s.log.Replay(func(pos wal.Pos, kind byte, p []byte) error {
		if err := s.apply(pos, kind, p, &scratch, &h, &d); err != nil {
			if bad == 0 {
				s.lg.Error().Str("event", "store_bad_entry").Uint64("pos", uint64(pos)).Int("kind", int(kind)).
					Int("bytes", len(p)).Err(err).Msg("store: a log entry does not decode; skipped (more are counted, not logged)")
			}
			bad++
		}
		return nil
	})
	if err != nil {
		return err
	}
	bad += s.holds.finishReplay()
	s.dead.finishReplay(s.clock())
	s.replay.entries = rs.Entries
	s.replay.corrupt = uint64(rs.CorruptSegments) + bad
	return nil
}

// apply applies one entry at pos (replay only).
func (s *Store) apply(pos wal.Pos, kind byte, p []byte, scratch *recSlot, h *storage.Held, d *storage.DeadLetter) error {
	switch kind {
	case kPut, kRecord:
		return s.replayRecord(pos, kind, p, scratch)
	case kState, kAccepted:
		id, st, code, at, err := decodeState(p)
		if err != nil {
			return err
		}
		sh := s.recShard(id)
		sh.mu.Lock()
		if i, ok := sh.ix.get(id); ok {
			if kind == kState {
				sh.applyState(sh.slots.at(i), st, code, at)
			} else {
				sh.applyAccepted(sh.slots.at(i), st, code, at)
			}
		}
		sh.mu.Unlock()
	case kReplaced:
		id, sub, regDel, parts, text, err := decodeReplaced(p)
		if err != nil {
			return err
		}
		sh := s.recShard(id)
		sh.mu.Lock()
		if i, ok := sh.ix.get(id); ok {
			applyReplaced(sh.slots.at(i), sub, regDel, parts, text)
		}
		sh.mu.Unlock()
	case kDelete:
		v, err := decodeID(p)
		if err != nil {
			return err
		}
		id := msg.ID(v)
		sh := s.recShard(id)
		sh.mu.Lock()
		if i, ok := sh.ix.get(id); ok {
			sh.drop(sh.slots.at(i))
		}
		sh.mu.Unlock()
	case kUpstream, kUpstreamOf:
		id, until, conn, key, err := decodeUpstream(p)
		if err != nil {
			return err
		}
		if kind == kUpstream {
			hash := s.upHash(conn, key)
			sh := s.upShardOf(hash)
			sh.mu.Lock()
			sh.setFwd(hash, conn, key, id, until, pos)
			sh.mu.Unlock()
		} else {
			sh := s.revShard(id)
			sh.mu.Lock()
			sh.setRev(id, key, until, pos)
			sh.mu.Unlock()
		}
	case kHold, kHoldRecipe:
		dur, user, err := decodeHold(p, h)
		if err != nil {
			return err
		}
		h.SystemID = string(user)
		s.holds.restore(dur, h, pos, kind == kHoldRecipe)
	case kRelease:
		dur, attempts, err := decodeRelease(p)
		if err != nil {
			return err
		}
		s.holds.replayRelease(dur, attempts)
	case kAck:
		dur, err := decodeID(p)
		if err != nil {
			return err
		}
		s.holds.replayAck(dur)
	case kLedger:
		lk, amount, user, err := decodeLedger(p)
		if err != nil {
			return err
		}
		s.led.mu.Lock()
		s.led.apply(s.led.user(string(user)), lk, amount, pos)
		s.led.mu.Unlock()
	case kBalance:
		v, set, user, err := decodeBalance(p)
		if err != nil {
			return err
		}
		s.led.mu.Lock()
		s.led.user(string(user)).reset(v, set, pos)
		s.led.mu.Unlock()
	case kDead:
		seq, user, reason, body, err := decodeDead(p, d)
		if err != nil {
			return err
		}
		s.dead.restore(seq, d, user, reason, body, pos)
	case kDeadDel:
		return s.dead.replayDeadDel(p)
	case kIDFloor:
		v, err := decodeID(p)
		if err != nil {
			return err
		}
		s.floor.restore(v, pos)
	case kCallback, kCallbackDel:
		return s.replayCallback(pos, kind, p)
	default:
		return errBadEntry
	}
	return nil
}

// replayRecord applies a kPut or kRecord: the record's full state, its
// ledger change (kPut) and its body, kept for Recover while its fate is
// unknown.
func (s *Store) replayRecord(pos wal.Pos, kind byte, p []byte, n *recSlot) error {
	*n = recSlot{}
	var u upAddrs
	user, route, d, body, err := decodeRecord(p, n, &u)
	if err != nil {
		return err
	}
	if kind == kPut && d != (charges{}) {
		s.led.mu.Lock()
		s.led.charge(string(user), d, pos)
		s.led.mu.Unlock()
	}
	sh := s.recShard(n.id)
	sh.mu.Lock()
	n.user = s.users.userIn(sh.users, string(user))
	if len(route) > 0 {
		n.route = s.users.userIn(sh.users, string(route)) + 1
	}
	if n.flags&fBody != 0 {
		if sh.bodies == nil {
			sh.bodies = make(map[msg.ID][]byte)
		}
		sh.bodies[n.id] = append(sh.bodies[n.id][:0], body...)
	}
	sh.install(n, &u, pos)
	sh.mu.Unlock()
	return nil
}

// Recover implements storage.Store: the records whose recorded state is
// not final and whose lifetime is not over, oldest first (by submission,
// then id), each with the body Open found for it (nil once a connector
// accepted it, or when it was stored by Put).
func (s *Store) Recover(fn func(r *storage.Record, m []byte) error) error {
	type pending struct {
		sub int64
		id  msg.ID
	}
	now := s.now()
	var list []pending
	for i := range s.recs {
		sh := &s.recs[i]
		sh.mu.Lock()
		for j := range int32(sh.slots.len()) {
			if r := sh.slots.at(j); r.anchor != 0 && !r.state.Final() && !expired(r.end(s.ttl), now) {
				list = append(list, pending{r.submitted, r.id})
			}
		}
		sh.mu.Unlock()
	}
	slices.SortFunc(list, func(a, b pending) int {
		switch {
		case a.sub != b.sub:
			return cmpInt(a.sub, b.sub)
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	var rec storage.Record
	for _, p := range list {
		sh := s.recShard(p.id)
		sh.mu.Lock()
		r := sh.find(p.id, now, s.ttl)
		if r == nil || r.state.Final() { // changed since the list was made
			sh.mu.Unlock()
			continue
		}
		s.copyOut(sh, r, &rec)
		if r.later != 0 {
			rec.State = r.later // re-drive it: shown even before its time
		}
		var m []byte
		if r.flags&fBody != 0 {
			m = sh.bodies[p.id]
		}
		sh.mu.Unlock()
		s.recovered.Add(1)
		if err := fn(&rec, m); err != nil {
			return err
		}
	}
	return nil
}

func cmpInt(a, b int64) int {
	if a < b {
		return -1
	}
	return 1
}
