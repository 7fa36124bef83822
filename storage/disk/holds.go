package disk

import (
	"slices"
	"sync"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// holds is the durable storage.Holds: the items, their queues, leases and
// limits are a memory.Holds; this adds the log. Each item has a durable
// key (a sequence number the log names it by, stable across restarts and
// compaction) beside the memory key callers see, which is new after each
// restart. Leases are not logged: a restart offers every item again.
type holds struct {
	s     *Store
	mu    sync.Mutex // over mem and the maps: a Lease cannot see an item whose write failed
	mem   *memory.Holds
	byKey map[storage.HeldKey]heldMeta
	byDur map[uint64]storage.HeldKey
	seq   uint64 // the last durable key given
	buf   []byte
	live  liveSegs
	// restored collects the items at replay (see finishReplay).
	restored map[uint64]*restoredItem
}

// heldMeta is what the log needs of an item: its durable key, anchor and
// attempts (for compaction's copy).
type heldMeta struct {
	dur      uint64
	anchor   wal.Pos
	attempts int
}

func (hs *holds) init(s *Store, max int, share storage.HeldLimit) {
	hs.s = s
	hs.mem = memory.NewHolds(max, share)
	hs.byKey = make(map[storage.HeldKey]heldMeta)
	hs.byDur = make(map[uint64]storage.HeldKey)
	hs.buf = make([]byte, 0, 512)
}

// Hold implements storage.Holds. A receipt may use the room above the
// disk's high-water mark (it settles an accepted message); an MO may not.
func (hs *holds) Hold(h *storage.Held) (storage.HeldKey, error) { return hs.hold(h, nil) }

// HoldRecipe implements storage.RecipeHolds: with Options.Rebuild the
// item is logged with recipe instead of its Body (kHoldRecipe); without,
// as Hold.
func (hs *holds) HoldRecipe(h *storage.Held, recipe []byte) (storage.HeldKey, error) {
	return hs.hold(h, recipe)
}

func (hs *holds) hold(h *storage.Held, recipe []byte) (storage.HeldKey, error) {
	hs.mu.Lock()
	key, err := hs.mem.Hold(h)
	if err != nil {
		hs.mu.Unlock()
		return 0, err
	}
	dur := hs.seq + 1
	kind, body := kHold, h.Body
	if recipe != nil && hs.s.o.Rebuild != nil {
		kind, body = kHoldRecipe, recipe
	}
	hs.buf = appendHold(hs.buf[:0], dur, h, body)
	pos, err := hs.s.log.Append(kind, hs.buf, h.Kind == storage.HeldReceipt)
	if err != nil {
		_ = hs.mem.Ack(key)
		hs.mu.Unlock()
		return 0, err
	}
	hs.seq = dur
	hs.add(key, dur, pos, h.Attempts)
	hs.mu.Unlock()
	return key, nil
}

// HeldByUser implements storage.HeldCounts (the index in memory holds
// the counts, under its own lock: mu is not taken).
func (hs *holds) HeldByUser(fn func(systemID string, n int)) { hs.mem.HeldByUser(fn) }

// add indexes an item held under key. Caller holds mu.
func (hs *holds) add(key storage.HeldKey, dur uint64, pos wal.Pos, attempts int) {
	hs.byKey[key] = heldMeta{dur: dur, anchor: pos, attempts: attempts}
	hs.byDur[dur] = key
	hs.live.move(0, pos)
}

// forget drops key's item from the maps. Caller holds mu.
func (hs *holds) forget(key storage.HeldKey, m heldMeta) {
	hs.live.move(m.anchor, 0)
	delete(hs.byKey, key)
	delete(hs.byDur, m.dur)
}

// Lease implements storage.Holds: not logged.
func (hs *holds) Lease(systemID string, until int64, dst []storage.Held) (int, error) {
	hs.mu.Lock()
	n, err := hs.mem.Lease(systemID, until, dst)
	hs.mu.Unlock()
	return n, err
}

// Release implements storage.Holds.
func (hs *holds) Release(key storage.HeldKey, attempts int) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	m, ok := hs.byKey[key]
	if !ok {
		return storage.ErrNotFound
	}
	hs.buf = appendRelease(hs.buf[:0], m.dur, attempts)
	if _, err := hs.s.log.Append(kRelease, hs.buf, true); err != nil {
		return err
	}
	if err := hs.mem.Release(key, attempts); err != nil {
		return err
	}
	m.attempts = attempts
	hs.byKey[key] = m
	return nil
}

// Ack implements storage.Holds.
func (hs *holds) Ack(key storage.HeldKey) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	m, ok := hs.byKey[key]
	if !ok {
		return storage.ErrNotFound
	}
	hs.buf = appendID(hs.buf[:0], m.dur)
	if _, err := hs.s.log.Append(kAck, hs.buf, true); err != nil {
		return err
	}
	hs.forget(key, m)
	return hs.mem.Ack(key)
}

// Expire implements storage.Holds: each item removed is logged as acked
// (one whose entry cannot be written now comes back at a restart, to
// expire again), then passed to fn without the lock held.
func (hs *holds) Expire(now int64, fn func(h *storage.Held)) (int, error) {
	var gone []storage.Held
	var werr error
	hs.mu.Lock()
	n, err := hs.mem.Expire(now, func(h *storage.Held) {
		if m, ok := hs.byKey[h.Key]; ok {
			hs.buf = appendID(hs.buf[:0], m.dur)
			if _, err := hs.s.log.Append(kAck, hs.buf, true); err != nil && werr == nil {
				werr = err
			}
			hs.forget(h.Key, m)
		}
		if fn != nil {
			c := *h
			c.Body = append([]byte(nil), h.Body...)
			gone = append(gone, c)
		}
	})
	hs.mu.Unlock()
	for i := range gone {
		fn(&gone[i])
	}
	if err == nil {
		err = werr
	}
	return n, err
}

// Len implements storage.Holds.
func (hs *holds) Len() int { return hs.mem.Len() }

// Users implements storage.Holds.
func (hs *holds) Users() int { return hs.mem.Users() }

func (hs *holds) stats() (n, users int, refused, shareRefused uint64) {
	st := hs.mem.Stats()
	return st.Held, st.HeldUsers, st.HeldRefused, st.HeldShareRefused
}

// restoredItem is an item replay found, before finishReplay puts it back.
type restoredItem struct {
	h      storage.Held // owns its Body
	anchor wal.Pos
	recipe bool // h.Body is its recipe (kHoldRecipe), the Body built by finishReplay
}

// restore applies a kHold entry at replay: a new item, or the copy
// compaction made of one (newer: its attempts and anchor). Items are put
// back by finishReplay, in the order they came (their durable keys):
// compaction's copies come after newer items in the log. recipe: h.Body
// is the item's recipe.
func (hs *holds) restore(dur uint64, h *storage.Held, pos wal.Pos, recipe bool) {
	if hs.restored == nil {
		hs.restored = make(map[uint64]*restoredItem)
	}
	hs.seq = max(hs.seq, dur)
	it := hs.restored[dur]
	if it == nil {
		it = &restoredItem{}
		hs.restored[dur] = it
	}
	body := append(it.h.Body[:0], h.Body...)
	it.h = *h
	it.h.Body = body
	it.anchor, it.recipe = pos, recipe
}

// replayRelease and replayAck apply kRelease and kAck at replay; an item
// not known (its kHold was compacted away before it was acked) is skipped.
func (hs *holds) replayRelease(dur uint64, attempts int) {
	if it := hs.restored[dur]; it != nil {
		it.h.Attempts = attempts
	}
}

func (hs *holds) replayAck(dur uint64) { delete(hs.restored, dur) }

// finishReplay puts the items replay found back, oldest first, building
// the Body of those logged as recipes (only the items still held: most
// receipts in a log were acknowledged). It returns how many recipes did
// not build (logged, and skipped like an entry that does not decode).
func (hs *holds) finishReplay() (failed uint64) {
	durs := make([]uint64, 0, len(hs.restored))
	for d := range hs.restored {
		durs = append(durs, d)
	}
	slices.Sort(durs)
	hs.mu.Lock()
	defer hs.mu.Unlock()
	var body []byte
	for _, d := range durs {
		it := hs.restored[d]
		if it.recipe {
			// Without Rebuild the item is skipped here, not at its entry:
			// its durable key stays given (restore), never reused.
			err := errNoRebuild
			if hs.s.o.Rebuild != nil {
				body, err = hs.s.o.Rebuild(body[:0], it.h.Body)
			}
			if err != nil {
				if failed == 0 {
					hs.s.lg.Error().Str("event", "store_bad_entry").Uint64("pos", uint64(it.anchor)).Int("kind", int(kHoldRecipe)).
						Err(err).Msg("store: a held item's recipe does not build its body; skipped (more are counted, not logged)")
				}
				failed++
				continue
			}
			it.h.Body = body
		}
		hs.add(hs.mem.Restore(&it.h), d, it.anchor, it.h.Attempts)
	}
	hs.restored = nil
	return failed
}
