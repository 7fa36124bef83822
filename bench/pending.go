package bench

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// receipts correlates submit_sm_resp message ids with delivery receipts.
// It is shared by all sessions because an SMSC may deliver a receipt on any
// session bound with the same system_id. Keys are 64-bit hashes of the
// message id (a collision among a few million live ids is ~1e-7 likely and
// would only misattribute one latency). Sharded by hash, one mutex each, so
// sessions rarely meet; each shard is an open-addressing table with linear
// probing and backward-shift deletion, which allocates only when it grows.
type receipts struct {
	seed   maphash.Seed
	shards [receiptShards]receiptShard
	// early counts receipts that reached the client before the response
	// carrying their id: an SMSC that lets a receipt overtake its answer.
	early atomic.Uint64
}

const receiptShards = 64

// Entry states: a response arrived and the receipt is awaited, or the
// receipt overtook the response (an SMSC may send the receipt first).
const (
	awaitReceipt uint8 = 1
	earlyReceipt uint8 = 2
)

type receiptEntry struct {
	key   uint64 // 0 = empty
	at    int64  // awaitReceipt: intended send time; earlyReceipt: receipt time
	state uint8
}

type receiptShard struct {
	mu    sync.Mutex
	slots []receiptEntry
	n     int
	_     [40]byte // keep neighbouring shards off one cache line
}

func newReceipts() *receipts {
	r := &receipts{seed: maphash.MakeSeed()}
	for i := range r.shards {
		r.shards[i].slots = make([]receiptEntry, 1024)
	}
	return r
}

func (r *receipts) key(id []byte) uint64 {
	k := maphash.Bytes(r.seed, id)
	if k == 0 {
		k = 1
	}
	return k
}

// submitted records a message id from an OK submit_sm_resp sent at sentAt.
// When its receipt already came, it returns the receipt time and true.
func (r *receipts) submitted(id []byte, sentAt int64) (receiptAt int64, done bool) {
	k := r.key(id)
	s := &r.shards[k%receiptShards]
	s.mu.Lock()
	i, found := s.find(k)
	if found && s.slots[i].state == earlyReceipt {
		receiptAt = s.slots[i].at
		s.remove(i)
		s.mu.Unlock()
		r.early.Add(1)
		return receiptAt, true
	}
	if !found {
		i = s.insert(k)
	}
	s.slots[i].at, s.slots[i].state = sentAt, awaitReceipt
	s.mu.Unlock()
	return 0, false
}

// received records a receipt for id arriving at now. When the response was
// seen, it returns the intended send time and true; otherwise the receipt
// is kept until the response comes.
func (r *receipts) received(id []byte, now int64) (sentAt int64, matched bool) {
	k := r.key(id)
	s := &r.shards[k%receiptShards]
	s.mu.Lock()
	i, found := s.find(k)
	if found && s.slots[i].state == awaitReceipt {
		sentAt = s.slots[i].at
		s.remove(i)
		s.mu.Unlock()
		return sentAt, true
	}
	if !found {
		i = s.insert(k)
		s.slots[i].at, s.slots[i].state = now, earlyReceipt
	}
	s.mu.Unlock()
	return 0, false
}

// counts returns how many responses still await a receipt and how many
// receipts never met a response.
func (r *receipts) counts() (awaiting, orphans uint64) {
	for i := range r.shards {
		s := &r.shards[i]
		s.mu.Lock()
		for _, e := range s.slots {
			switch e.state {
			case awaitReceipt:
				awaiting++
			case earlyReceipt:
				orphans++
			}
		}
		s.mu.Unlock()
	}
	return awaiting, orphans
}

// find returns the slot of k, or the empty slot where it would go.
// Precondition: s.mu held.
func (s *receiptShard) find(k uint64) (int, bool) {
	mask := len(s.slots) - 1
	for i := int(k>>8) & mask; ; i = (i + 1) & mask {
		switch s.slots[i].key {
		case k:
			return i, true
		case 0:
			return i, false
		}
	}
}

// insert adds k (known absent) and returns its slot, growing at 1/2 load.
// Precondition: s.mu held.
func (s *receiptShard) insert(k uint64) int {
	if 2*(s.n+1) > len(s.slots) {
		old := s.slots
		s.slots = make([]receiptEntry, 2*len(old))
		for _, e := range old {
			if e.key != 0 {
				i, _ := s.find(e.key)
				s.slots[i] = e
			}
		}
	}
	i, _ := s.find(k)
	s.slots[i].key = k
	s.n++
	return i
}

// remove empties slot i and shifts later members of its probe run back so
// that find never stops early. Precondition: s.mu held.
func (s *receiptShard) remove(i int) {
	mask := len(s.slots) - 1
	s.n--
	for {
		s.slots[i] = receiptEntry{}
		j := i
		for {
			j = (j + 1) & mask
			e := s.slots[j]
			if e.key == 0 {
				return
			}
			home := int(e.key>>8) & mask
			// e may move to i when its home is not in the cyclic range (i, j].
			if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
				s.slots[i] = e
				i = j
				break
			}
		}
	}
}
