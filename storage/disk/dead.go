package disk

import (
	"slices"
	"sort"
	"sync"

	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
)

// deadList is the durable storage.DeadLetters: a ring of the newest
// letters in the order they came (by number), each anchored at its kDead
// entry. The oldest go when the list is full or past the TTL; neither is
// logged: a replay keeps the newest by the same rules.
type deadList struct {
	s       *Store
	mu      sync.Mutex
	ring    []deadSlot // logical order from head: oldest first
	head    int
	n       int
	max     int
	seq     uint64 // the last letter's number
	added   uint64
	dropped uint64
	buf     []byte
	live    liveSegs
	// restored collects the letters at replay (compaction's copies come
	// after newer letters), put in order when it ends.
	restored map[uint64]deadSlot
}

type deadSlot struct {
	d      storage.DeadLetter // owns its Body
	seq    uint64
	anchor wal.Pos
}

func (dl *deadList) init(s *Store, max int) {
	dl.s, dl.max = s, max
}

// at returns the i-th letter from the oldest. Caller holds mu.
func (dl *deadList) at(i int) *deadSlot { return &dl.ring[(dl.head+i)%len(dl.ring)] }

// push adds a letter as the newest, dropping the oldest from a full list.
// Caller holds mu.
func (dl *deadList) push(d *storage.DeadLetter, seq uint64, pos wal.Pos) {
	var sl *deadSlot
	switch {
	case dl.n < len(dl.ring): // room a sweep left
		sl = dl.at(dl.n)
		dl.n++
	case len(dl.ring) < dl.max:
		if dl.head != 0 { // full but below max: oldest first again, then grow
			dl.ring, dl.head = slices.Concat(dl.ring[dl.head:], dl.ring[:dl.head]), 0
		}
		dl.ring = append(dl.ring, deadSlot{})
		sl = &dl.ring[len(dl.ring)-1]
		dl.n++
	default:
		sl = &dl.ring[dl.head]
		dl.head = (dl.head + 1) % len(dl.ring)
		dl.live.move(sl.anchor, 0)
		dl.dropped++
	}
	body := sl.d.Body[:0]
	*sl = deadSlot{d: *d, seq: seq, anchor: pos}
	sl.d.Body = append(body, d.Body...)
	dl.live.move(0, pos)
}

// Add implements storage.DeadLetters. Not urgent: past the disk's
// high-water mark a letter is refused (and its upstream told to retry).
func (dl *deadList) Add(d *storage.DeadLetter) error {
	c := *d
	if c.At == 0 {
		c.At = dl.s.clock()
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	dl.buf = appendDead(dl.buf[:0], dl.seq+1, &c)
	pos, err := dl.s.log.Append(kDead, dl.buf, false)
	if err != nil {
		return err
	}
	dl.seq++
	dl.added++
	dl.push(&c, dl.seq, pos)
	return nil
}

// List implements storage.DeadLetters: newest first, fn under the lock
// (it must not call the list).
func (dl *deadList) List(max int, fn func(d *storage.DeadLetter)) error {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	n := dl.n
	if max > 0 && max < n {
		n = max
	}
	for i := range n {
		fn(&dl.at(dl.n - 1 - i).d)
	}
	return nil
}

// Len implements storage.DeadLetters.
func (dl *deadList) Len() int {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.n
}

func (dl *deadList) stats() (n int, added, dropped uint64) {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	return dl.n, dl.added, dl.dropped
}

// sweep drops the oldest letters past the TTL at now and returns how
// many.
func (dl *deadList) sweep(now int64) int {
	dl.mu.Lock()
	defer dl.mu.Unlock()
	k := 0
	for dl.n > 0 {
		sl := dl.at(0)
		if !expired(sl.d.At+dl.s.ttl, now) {
			break
		}
		dl.live.move(sl.anchor, 0)
		sl.d = storage.DeadLetter{Body: sl.d.Body[:0]}
		dl.head = (dl.head + 1) % len(dl.ring)
		dl.n--
		k++
	}
	if dl.n == 0 {
		dl.ring, dl.head = dl.ring[:0], 0
	}
	dl.dropped += uint64(k)
	return k
}

// find returns the letter numbered seq, or nil. Caller holds mu.
func (dl *deadList) find(seq uint64) *deadSlot {
	i := sort.Search(dl.n, func(i int) bool { return dl.at(i).seq >= seq })
	if i < dl.n && dl.at(i).seq == seq {
		return dl.at(i)
	}
	return nil
}

// restore applies a kDead entry at replay.
func (dl *deadList) restore(seq uint64, d *storage.DeadLetter, user, reason, body []byte, pos wal.Pos) {
	if dl.restored == nil {
		dl.restored = make(map[uint64]deadSlot)
	}
	dl.seq = max(dl.seq, seq)
	c := *d
	c.SystemID, c.Reason, c.Body = string(user), string(reason), append([]byte(nil), body...)
	dl.restored[seq] = deadSlot{d: c, seq: seq, anchor: pos}
}

// finishReplay puts the restored letters in order, keeping the newest
// max that are within the TTL at now.
func (dl *deadList) finishReplay(now int64) {
	all := make([]deadSlot, 0, len(dl.restored))
	for _, sl := range dl.restored {
		if !expired(sl.d.At+dl.s.ttl, now) {
			all = append(all, sl)
		}
	}
	dl.restored = nil
	slices.SortFunc(all, func(a, b deadSlot) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return 0
	})
	if len(all) > dl.max {
		all = all[len(all)-dl.max:]
	}
	dl.ring, dl.head, dl.n = all, 0, len(all)
	for i := range all {
		dl.live.move(0, all[i].anchor)
	}
}
