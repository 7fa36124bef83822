package disk

import "github.com/smppd/smppd/storage"

// kDeadDel: dead letters an operator removed (their numbers). An older
// binary skips it as an entry it does not know (store_bad_entry, counted
// in ReplayCorrupt) and shows the letters again: harmless.
const kDeadDel byte = 18

// Walk implements storage.HeldWalker.
func (hs *holds) Walk(fn func(h *storage.Held, leased bool) bool) error {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.mem.Walk(fn)
}

// Remove implements storage.DeadLetterRemover: the numbers of the letters
// at at are logged in one kDeadDel entry, then they leave the ring (and
// their kDead entries stop being live, so compaction drops them).
func (dl *deadList) Remove(at int64) (int, error) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	buf := dl.buf[:0]
	for i := range dl.n {
		if sl := dl.at(i); sl.d.At == at {
			buf = le.AppendUint64(buf, sl.seq)
		}
	}
	dl.buf = buf
	if len(buf) == 0 {
		return 0, nil
	}
	if _, err := dl.s.log.Append(kDeadDel, buf, true); err != nil {
		return 0, err
	}
	kept := make([]deadSlot, 0, dl.n)
	for i := range dl.n {
		sl := dl.at(i)
		if sl.d.At == at {
			dl.live.move(sl.anchor, 0)
			continue
		}
		kept = append(kept, *sl)
	}
	gone := dl.n - len(kept)
	dl.ring, dl.head, dl.n = kept, 0, len(kept)
	return gone, nil
}

// replayDeadDel applies a kDeadDel at replay: the letters it names are
// not put back.
func (dl *deadList) replayDeadDel(p []byte) error {
	if len(p) == 0 || len(p)%8 != 0 {
		return errBadEntry
	}
	for ; len(p) > 0; p = p[8:] {
		delete(dl.restored, le.Uint64(p))
	}
	return nil
}
