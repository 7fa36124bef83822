package freeport

import (
	"net"
	"strconv"
	"testing"
)

// Ports come from below the ephemeral range, distinct, and free: each
// can be listened on right after.
func TestTakeBelowEphemeralRange(t *testing.T) {
	eLo, _ := ephemeral()
	ports, err := Take(20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Fatalf("port %d handed out twice in %v", p, ports)
		}
		seen[p] = true
		if eLo-floor >= 2000 && (p < floor || p >= eLo) {
			t.Fatalf("port %d outside %d..%d", p, floor, eLo)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		_ = l.Close()
	}
	// Never the same port again in this process.
	more, err := Take(20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range more {
		if seen[p] {
			t.Fatalf("port %d handed out again", p)
		}
	}
}

// A port someone listens on is never handed out.
func TestTakeSkipsBusyPorts(t *testing.T) {
	lo, hi := span()
	var held []net.Listener
	busy := map[int]bool{}
	for p := lo; p < hi && len(held) < 200; p += (hi - lo) / 200 {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			held = append(held, l)
			busy[p] = true
		}
	}
	defer func() {
		for _, l := range held {
			_ = l.Close()
		}
	}()
	ports, err := Take(50)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if busy[p] {
			t.Fatalf("busy port %d handed out", p)
		}
	}
}
