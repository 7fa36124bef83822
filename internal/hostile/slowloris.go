package hostile

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

const (
	slowlorisConns = 500
	slowlorisIPs   = 50 // 10 connections per source address
	slowlorisTime  = 8 * time.Second
	dialParallel   = 64 // dials in flight at once: well under the accept backlog
)

// dialMany opens n connections, the i-th from ipOf(i), dialParallel at a
// time. Failed dials leave nil and are counted.
func dialMany(e *env, n int, ipOf func(int) string) ([]net.Conn, int, error) {
	conns := make([]net.Conn, n)
	var failed atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			c, err := e.srv.dial(e.ctx, ipOf(i))
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	err, _ := firstErr.Load().(error)
	return conns, int(failed.Load()), err
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// slowloris dribbles a bind_transmitter (as demo2) one byte per second on
// every connection.
func slowloris(e *env, r *Result) {
	frame := smpptest.Frame(codec.BindTransmitterID, 0, 1, smpptest.BindBody(demo2User, demo2Pass, 0x34))
	t0 := time.Now()
	conns, failed, err := dialMany(e, slowlorisConns, func(i int) string {
		return fmt.Sprintf("127.0.0.%d", slowlorisIP+i%slowlorisIPs)
	})
	defer closeAll(conns)
	r.figure("connections", "%d of %d opened in %s from 127.0.0.%d-%d", slowlorisConns-failed, slowlorisConns,
		seconds(time.Since(t0)), slowlorisIP, slowlorisIP+slowlorisIPs-1)
	if failed > 0 {
		r.check("every slowloris connection opened", false, "%d failed, the first: %v", failed, err)
	}
	start := time.Now()
	open := slowlorisConns - failed
	closed, first := 0, time.Duration(0)
	sent := 0
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for sent < len(frame) && time.Since(start) < slowlorisTime {
		for i, c := range conns {
			if c == nil {
				continue
			}
			if err := writeAll(c, frame[sent:sent+1], time.Second); err != nil {
				c.Close()
				conns[i] = nil
				closed++
				if first == 0 {
					first = time.Since(start)
				}
			}
		}
		sent++
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
	}
	r.figure("dribbled", "%d of the bind's %d bytes, 1 per second", sent, len(frame))
	closedText := fmt.Sprintf("%d of %d", closed, open)
	if closed > 0 {
		closedText += ", the first after " + seconds(first)
	}
	r.figure("closed by the server while dribbling", "%s", closedText)
}
