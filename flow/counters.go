package flow

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Observer takes one latency sample in seconds; prometheus.Histogram (or a
// pre-resolved HistogramVec child) satisfies it without allocating. It names
// an unnamed interface type, so the MT and the delivery sides' observer
// slices are one type (metrics hands the same histograms to both).
type Observer = interface {
	Observe(seconds float64)
}

// UserStats are one user's counters since the hub started.
type UserStats struct {
	SystemID string
	Submits  uint64              // MT messages queued (submit_multi counts each destination)
	Parts    uint64              // message parts of those
	Refused  [numRefusals]uint64 // refusals by reason (index: Refusal; RefuseThrottled is the throughput bucket)
	Receipts uint64              // receipts acknowledged ESME_ROK (CountDelivered)
	MO       uint64              // MO acknowledged ESME_ROK (CountDelivered)
}

// RefusedBy returns the user's refusal count for r.
func (s UserStats) RefusedBy(r Refusal) uint64 {
	if r < numRefusals {
		return s.Refused[r]
	}
	return 0
}

// userCounters is one user's live counters.
type userCounters struct {
	// sent: messages queued (a) and their parts (b), per P (pcount.go).
	sent pCells
	// parts a replace_sm bills beyond the message's first charge (countExtra).
	parts        atomic.Uint64
	receipts, mo atomic.Uint64
	refused      [numRefusals]atomic.Uint64
	// receiptBacklog: the user's receivers are behind on its receipts and
	// MO (SetReceiptBacklog): MT asking a receipt is refused.
	receiptBacklog atomic.Bool
}

// userTable finds a user's counters by system_id: a copy-on-write map, so
// the per-message lookup is one atomic load and a map read with no lock.
// It grows once per user ever seen (users come from the configuration, so
// it stays bounded) and never shrinks.
type userTable struct {
	mu sync.Mutex // serialises growth
	m  atomic.Pointer[map[string]*userCounters]
}

func (t *userTable) get(systemID string) *userCounters {
	if m := t.m.Load(); m != nil {
		if c, ok := (*m)[systemID]; ok {
			return c
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.m.Load()
	if old != nil {
		if c, ok := (*old)[systemID]; ok {
			return c
		}
	}
	next := make(map[string]*userCounters, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	c := &userCounters{sent: newPCells()}
	next[systemID] = c
	t.m.Store(&next)
	return c
}

func lenOf(m *map[string]*userCounters) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// UserStats returns every user's counters that has had traffic, sorted by
// system_id. For metrics and the admin API: it allocates.
func (h *Hub) UserStats() []UserStats {
	m := h.ustats.m.Load()
	if m == nil {
		return nil
	}
	out := make([]UserStats, 0, len(*m))
	for id, c := range *m {
		submits, parts := c.sent.load()
		s := UserStats{SystemID: id, Submits: submits, Parts: parts + c.parts.Load(),
			Receipts: c.receipts.Load(), MO: c.mo.Load()}
		for i := range s.Refused {
			s.Refused[i] = c.refused[i].Load()
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SystemID < out[j].SystemID })
	return out
}

// observeSince samples the seconds from receivedNs to atNs (Unix ns) into
// obs[connector], when the caller configured one for that connector. atNs
// is a connector's own reading of the wall clock (0 = none): used as is
// unless the hub runs on an injected clock.
func (h *Hub) observeSince(obs []Observer, connector int, receivedNs, atNs int64) {
	if connector < 0 || connector >= len(obs) || obs[connector] == nil || receivedNs == 0 {
		return
	}
	if atNs == 0 || !h.wallClock {
		atNs = h.now().UnixNano()
	}
	obs[connector].Observe(time.Duration(atNs - receivedNs).Seconds())
}
