package engine

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Clients that connect while the server enrolls its doorbells (a reconnect
// storm at a restart) must not keep it from starting: a doorbell that lands
// on a loop already served stays open, so the next one goes elsewhere.
func TestStartDuringReconnectStorm(t *testing.T) {
	for round := range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		var stop atomic.Bool
		var wg sync.WaitGroup
		var mu sync.Mutex
		var conns []net.Conn
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
					if err != nil {
						time.Sleep(time.Millisecond)
						continue
					}
					mu.Lock()
					conns = append(conns, c)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(5 * time.Millisecond)
		ts := start(t, func(o *Options) { o.Addr, o.EventLoops = addr, 4 })
		stop.Store(true)
		wg.Wait()
		mu.Lock()
		n := len(conns)
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		if ts.readyLoops() != 4 {
			t.Fatalf("round %d: %d of 4 loops have a doorbell", round, ts.readyLoops())
		}
		t.Logf("round %d: started with %d clients connecting", round, n)
	}
}
