// Package freeport hands tests loopback TCP ports to configure listeners
// with before they start.
//
// A port the kernel gives to a listener on ":0" comes from the ephemeral
// range, the one every outgoing connection's source port is drawn from
// too: between the pick and the listener's bind, any test process's
// client socket may take it ("address already in use", seen when the
// packages' tests run in parallel). Ports are therefore picked at random
// below the ephemeral range, where the kernel never assigns a source
// port, and checked free by listening on them.
package freeport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// floor is the lowest port handed out: above the well-known and most
// registered services a test machine may run.
const floor = 20000

var (
	mu    sync.Mutex
	given = map[int]bool{}
)

// Take returns n distinct ports free on 127.0.0.1 when checked, never
// handed out before in this process.
func Take(n int) ([]int, error) {
	mu.Lock()
	defer mu.Unlock()
	lo, hi := span()
	out := make([]int, 0, n)
	var held []net.Listener
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries > 100*n+1000 {
			return nil, fmt.Errorf("freeport: no free port in %d..%d after %d tries", lo, hi, tries)
		}
		p := lo + rand.IntN(hi-lo)
		if given[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		held = append(held, l) // held together: n distinct ports
		given[p] = true
		out = append(out, p)
	}
	return out, nil
}

// One is Take(1).
func One() (int, error) {
	p, err := Take(1)
	if err != nil {
		return 0, err
	}
	return p[0], nil
}

// span is [floor, the ephemeral range's first port), or, when the range
// starts too low to leave room below it, the ports above its end.
func span() (lo, hi int) {
	eLo, eHi := ephemeral()
	if eLo-floor >= 2000 {
		return floor, eLo
	}
	if 65535-eHi >= 2000 {
		return eHi + 1, 65536
	}
	return floor, 65536 // no room outside it: take the risk
}

// ephemeral reads the kernel's source-port range (Linux's default when
// unreadable).
func ephemeral() (lo, hi int) {
	lo, hi = 32768, 60999
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return lo, hi
	}
	a, errA := strconv.Atoi(f[0])
	z, errZ := strconv.Atoi(f[1])
	if err := errors.Join(errA, errZ); err != nil || a < 1 || z < a || z > 65535 {
		return 32768, 60999
	}
	return a, z
}
