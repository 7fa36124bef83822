package wal

import (
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// fsyncRing is how many recent fsync durations the percentiles cover.
const fsyncRing = 1024

// statsState is what the log's goroutine records for Stats.
type statsState struct {
	mu        sync.Mutex
	ring      [fsyncRing]time.Duration
	n         uint64 // fsyncs since Open
	last, max time.Duration
	total     time.Duration
	histo     [FsyncBuckets]uint64

	groups, groupLast, groupMax, woken uint64
	// woken: the groups an Append entry started, over which waitTotal is
	// summed (a group only lazy entries or a Sync started waits for none);
	// waitTotal: time from each group's first Append entry to the
	// writer's taking it; commitFn: time in the OnCommit callback, which
	// the next group's write waits for.
	waitTotal, commitFn time.Duration

	writeErrors   atomic.Uint64
	removed       atomic.Uint64
	fsyncFailures atomic.Uint64
	rewrites      atomic.Uint64
}

func (s *statsState) fsync(d time.Duration) {
	b := bits.Len64(uint64(d / time.Microsecond))
	s.mu.Lock()
	s.ring[s.n%fsyncRing] = d
	s.n++
	s.last = d
	s.max = max(s.max, d)
	s.total += d
	s.histo[min(b, FsyncBuckets-1)]++
	s.mu.Unlock()
}

func (s *statsState) group(entries uint64) {
	s.mu.Lock()
	s.groups++
	s.groupLast = entries
	s.groupMax = max(s.groupMax, entries)
	s.mu.Unlock()
}

func (s *statsState) waited(d time.Duration) {
	s.mu.Lock()
	s.woken++
	s.waitTotal += d
	s.mu.Unlock()
}

func (s *statsState) answered(d time.Duration) {
	s.mu.Lock()
	s.commitFn += d
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters. It copies and sorts the recent
// fsync times: for metrics scrapes and benchmarks, not per message.
func (l *Log) Stats() Stats {
	st := Stats{
		Sync:      l.o.Sync,
		Written:   l.written.Load(),
		Committed: l.Committed(),
		Synced:    l.synced.Load(),
		MaxDisk:   l.o.MaxDisk,
	}
	l.mu.Lock()
	st.BytesUsed = l.used
	st.Appends = l.appends
	st.AppendedBytes = l.payload
	st.RefusedHighWater = l.refused[refHighWater]
	st.RefusedDiskFull = l.refused[refDiskFull]
	st.RefusedFailed = l.refused[refFailed]
	st.RefusedBufferFull = l.refused[refBufferFull]
	st.LazyRode, st.LazyAlone = l.lazyRode, l.lazyAlone
	st.LingerFilled, st.LingerCut = l.lingerFilled, l.lingerCut
	st.DiskFull = l.state == devFull
	st.Failed = l.state == devFailed
	if l.state != devOK && l.lastErr != nil {
		st.LastError = l.lastErr.Error()
	}
	l.mu.Unlock()

	l.smu.Lock()
	for _, s := range l.segs {
		if !s.removing {
			st.Segments++
		}
	}
	l.smu.Unlock()

	s := &l.st
	var recent []time.Duration
	s.mu.Lock()
	st.Groups, st.GroupLast, st.GroupMax = s.groups, s.groupLast, s.groupMax
	st.GroupsWoken, st.GroupWait, st.CommitCallback = s.woken, s.waitTotal, s.commitFn
	st.Fsyncs, st.FsyncLast, st.FsyncMax, st.FsyncTotal, st.FsyncHisto = s.n, s.last, s.max, s.total, s.histo
	recent = append(recent, s.ring[:min(s.n, fsyncRing)]...)
	s.mu.Unlock()
	if len(recent) > 0 {
		slices.Sort(recent)
		st.FsyncP50 = recent[(len(recent)-1)*50/100]
		st.FsyncP99 = recent[(len(recent)-1)*99/100]
	}
	st.WriteErrors = s.writeErrors.Load()
	st.Removed = s.removed.Load()
	st.FsyncFailures, st.Rewrites = s.fsyncFailures.Load(), s.rewrites.Load()
	st.Preallocated, st.PreallocMissed, st.PreallocFailed = l.prep.made.Load(), l.prep.missed.Load(), l.prep.failed.Load()
	st.PreallocRecycled = l.prep.recycled.Load()
	return st
}
