package hostile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	garbageClose = 2 * time.Second // the server must close within this
	garbageWait  = 3 * time.Second // how long this side waits to see it
	garbageBytes = 4096
)

// garbageVariant is one connection's input.
type garbageVariant struct {
	name  string
	bound bool // bind as demo2 first
	data  []byte
}

// header is a 16-byte PDU header claiming length (submit_sm, sequence 2).
func header(length uint32) []byte {
	h := make([]byte, codec.HeaderLen)
	binary.BigEndian.PutUint32(h[0:], length)
	binary.BigEndian.PutUint32(h[4:], uint32(codec.SubmitSMID))
	binary.BigEndian.PutUint32(h[12:], 2)
	return h
}

func garbageVariants() []garbageVariant {
	// A fixed seed keeps the run repeatable; its first four bytes, read as
	// command_length, are far above any max_pdu_len.
	rnd := rand.New(rand.NewPCG(0x5eed, 14))
	random := make([]byte, garbageBytes)
	for i := range random {
		random[i] = byte(rnd.Uint32())
	}
	lengths := []struct {
		name string
		n    uint32
	}{{"command_length 0", 0}, {"command_length 15", 15}, {"command_length 0xFFFFFFFF", 0xFFFFFFFF}, {"command_length 1<<30", 1 << 30}}
	vs := []garbageVariant{{name: "random bytes", data: random}}
	for _, bound := range []bool{false, true} {
		for _, l := range lengths {
			name := l.name + " before bind"
			if bound {
				name = l.name + " after bind"
			}
			vs = append(vs, garbageVariant{name: name, bound: bound, data: header(l.n)})
		}
	}
	return vs
}

// garbage sends each variant on its own connection and times the server's
// close.
func garbage(e *env, r *Result) {
	vs := garbageVariants()
	took := make([]time.Duration, len(vs)) // 0 = still open
	errs := make([]error, len(vs))
	var wg sync.WaitGroup
	for i, v := range vs {
		wg.Go(func() { took[i], errs[i] = garbageOne(e, v) })
	}
	wg.Wait()
	for i, v := range vs {
		switch {
		case errs[i] != nil:
			r.check("closed within 2 s: "+v.name, false, "%v", errs[i])
		case took[i] == 0:
			r.check("closed within 2 s: "+v.name, false, "still open after %s", seconds(garbageWait))
		default:
			r.check("closed within 2 s: "+v.name, took[i] <= garbageClose, "closed after %s", seconds(took[i]))
		}
	}
	first := binary.BigEndian.Uint32(vs[0].data)
	r.figure("random bytes", "%d bytes, command_length read from them %d", garbageBytes, first)
}

// garbageOne returns how long after the write the server closed the
// connection (0: not within garbageWait).
func garbageOne(e *env, v garbageVariant) (time.Duration, error) {
	c, err := e.srv.dial(e.ctx, ipGarbage)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if v.bound {
		st, err := bindOn(c, codec.BindTransmitterID, demo2User, demo2Pass, 5*time.Second)
		if err != nil {
			return 0, fmt.Errorf("bind: %w", err)
		}
		if st != codec.StatusOK {
			return 0, fmt.Errorf("bind refused: %v", st)
		}
	}
	start := time.Now()
	if err := writeAll(c, v.data, garbageWait); err != nil && !isClosedByPeer(err) {
		return 0, err
	}
	_ = c.SetReadDeadline(start.Add(garbageWait))
	// Whatever the server answers first (generic_nack) is discarded.
	_, err = io.Copy(io.Discard, c)
	switch {
	case err == nil || isClosedByPeer(err): // io.Copy reports EOF as nil
		return time.Since(start), nil
	case isTimeout(err):
		return 0, nil
	}
	return 0, err
}
