package engine

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// Observer takes one latency sample in seconds. prometheus.Histogram (and
// a pre-resolved HistogramVec child) satisfies it and observes without
// allocating; the engine calls it on the event loop.
type Observer interface {
	Observe(seconds float64)
}

// PDU counters: one table per loop, written only by that loop, so counting
// costs a table index and an add, never a shared cache line. The add is a
// plain one (plainCounts): the loop is the only writer, and a scrape on
// another goroutine reads each aligned word whole with an atomic load; an
// atomic add would be a full barrier per PDU, waiting for every store before
// it.

// maxTabled is the highest command id (with bit 31 cleared) the bucket
// tables cover; data_sm (0x103) is the highest v3.4 id.
const maxTabled = 0x103

var (
	cmdIDs    []codec.CommandID // bucket → command id; bucket len(cmdIDs) is "unknown"
	statusIDs []codec.Status    // bucket → status; bucket len(statusIDs) is "other"
	reqBucket [maxTabled + 1]uint8
	rspBucket [maxTabled + 1]uint8 // responses, indexed by id &^ bit 31
	stBucket  [256]uint8           // every v3.4 status is below 0x100
)

// Table sizes: the 27 v3.4 command ids and the 48 v3.4 statuses, plus one
// bucket each for anything else (counts stay bounded whatever a peer sends).
const (
	numCmdBuckets    = 28
	numStatusBuckets = 49
)

func init() {
	for id := codec.CommandID(0); id <= maxTabled; id++ {
		for _, c := range [2]codec.CommandID{id, id | 0x80000000} {
			if !c.Known() {
				continue
			}
			if c.IsResponse() {
				rspBucket[id] = uint8(len(cmdIDs))
			} else {
				reqBucket[id] = uint8(len(cmdIDs))
			}
			cmdIDs = append(cmdIDs, c)
		}
	}
	for st := range stBucket {
		if s := codec.Status(st); s.Known() {
			stBucket[st] = uint8(len(statusIDs))
			statusIDs = append(statusIDs, s)
		}
	}
	if len(cmdIDs)+1 != numCmdBuckets || len(statusIDs)+1 != numStatusBuckets {
		panic("BUG: engine: PDU counter table sizes do not match the codec's tables")
	}
	// Unknown ids and statuses: mark their slots as the catch-all buckets.
	for id := range reqBucket {
		if !codec.CommandID(id).Known() {
			reqBucket[id] = numCmdBuckets - 1
		}
		if !(codec.CommandID(id) | 0x80000000).Known() {
			rspBucket[id] = numCmdBuckets - 1
		}
	}
	for st := range stBucket {
		if !codec.Status(st).Known() {
			stBucket[st] = numStatusBuckets - 1
		}
	}
}

func cmdBucket(id codec.CommandID) int {
	low := id &^ 0x80000000
	if low > maxTabled {
		return numCmdBuckets - 1
	}
	if id.IsResponse() {
		return int(rspBucket[low])
	}
	return int(reqBucket[low])
}

func statusBucket(st codec.Status) int {
	if st >= codec.Status(len(stBucket)) {
		return numStatusBuckets - 1
	}
	return int(stBucket[st])
}

// Direction of a counted PDU.
const (
	dirIn  = 0 // received from the peer
	dirOut = 1 // written to the peer
)

// pduCounters counts PDUs by direction, command id and (for known
// responses, generic_nack included) command_status. Requests and unknown
// ids are counted in status bucket 0 and reported without a status.
type pduCounters struct {
	_ [0]atomic.Uint64 // 64-bit aligned on 32-bit platforms too, for their atomic adds
	n [2][numCmdBuckets][numStatusBuckets]uint64
}

// plainCounts: the loop adds without atomics. Not under the race detector,
// which cannot tell a single writer from two, and not where a uint64 store
// is two (32-bit platforms: a scrape could read half of one).
const plainCounts = !raceEnabled && ^uintptr(0)>>63 == 1

func (p *pduCounters) count(dir int, id codec.CommandID, st codec.Status) {
	cb, sb := cmdBucket(id), 0
	if id.IsResponse() && cb != numCmdBuckets-1 {
		sb = statusBucket(st)
	}
	if plainCounts {
		p.n[dir][cb][sb]++
	} else {
		atomic.AddUint64(&p.n[dir][cb][sb], 1)
	}
}

// countOut counts the frames of out, which holds whole PDUs only (every
// writer appends complete frames), so one call in flush sees everything we
// send whatever appended it. It returns how many there were (the
// session's own counter).
func (p *pduCounters) countOut(out []byte) uint64 {
	var n uint64
	for len(out) >= codec.HeaderLen {
		l := int(binary.BigEndian.Uint32(out))
		if l < codec.HeaderLen || l > len(out) {
			break
		}
		p.count(dirOut, codec.CommandID(binary.BigEndian.Uint32(out[4:])), codec.Status(binary.BigEndian.Uint32(out[8:])))
		out = out[l:]
		n++
	}
	return n
}

// PDUCount is one non-zero cell of Server.PDUCounts. Command is the v3.4
// name ("submit_sm_resp") or "unknown"; Status is the response's status
// name ("ESME_ROK"), "other" for a status outside v3.4, or "" for requests.
type PDUCount struct {
	Received bool // from the peer; false: written by us
	Command  string
	Status   string
	N        uint64
}

// PDUCounts calls visit for every non-zero (direction, command, status)
// count since the server was created, summed over the event loops. Safe
// from any goroutine; the strings are static (no allocation per cell).
func (srv *Server) PDUCounts(visit func(PDUCount)) {
	var sum [2][numCmdBuckets][numStatusBuckets]uint64
	for _, l := range *srv.loops.Load() {
		for d := range l.pdus.n {
			for c := range l.pdus.n[d] {
				for s := range l.pdus.n[d][c] {
					sum[d][c][s] += atomic.LoadUint64(&l.pdus.n[d][c][s])
				}
			}
		}
	}
	for d := range sum {
		for c := range sum[d] {
			cmd := "unknown"
			if c < len(cmdIDs) {
				cmd = cmdIDs[c].String()
			}
			for s, n := range sum[d][c] {
				if n == 0 {
					continue
				}
				st := "other"
				switch {
				case c == numCmdBuckets-1 || !cmdIDs[c].IsResponse():
					st = "" // requests carry no status worth a label
				case s < len(statusIDs):
					st = statusIDs[s].String()
				}
				visit(PDUCount{Received: d == dirIn, Command: cmd, Status: st, N: n})
			}
		}
	}
}

// submitsDone ends the submit→response samples of the MT requests the
// batch that began at l.batchNow answered: one clock read for the batch,
// whose answers are all written at its end, instead of one per answer.
func (srv *Server) submitsDone(l *loop) {
	n := l.answered
	if n == 0 {
		return
	}
	l.answered = 0
	if o := srv.opts.SubmitLatency; o != nil {
		d := time.Since(l.batchNow).Seconds()
		for range n {
			o.Observe(d)
		}
	}
}
