package msg

import (
	"runtime"
	_ "unsafe" // go:linkname procPin, procUnpin
)

// Released messages are kept first in a small stack per scheduler P, then in
// messagePool. An event loop takes a message per submit and, its connector
// having taken it, releases it on the same loop a turn later: sync.Pool
// keeps one message per P outside its lock-free queues, so the rest of a
// batch went through their atomic push and pop (3.5% of the process at
// 4 x 100). The stack is plain slice work while pinned to the P (no other
// goroutine runs there meanwhile). Under the race detector, which cannot
// see the pinning, only messagePool is used.

// pStackLen is how many released messages one P keeps: a read batch's
// worth (the engine's BatchPDUs default is 128).
const pStackLen = 128

type pStack struct {
	n int
	m [pStackLen]*Message
	_ [64]byte // neighbouring Ps' stacks off one cache line
}

// pStacks has one stack per P at start; a P beyond them (GOMAXPROCS raised
// later) uses messagePool alone.
var pStacks = make([]pStack, runtime.GOMAXPROCS(0))

// procPin pins the calling goroutine to its P and returns the P's id;
// procUnpin undoes it. sync.Pool does the same; the runtime keeps both for
// linkname users (go.dev/issue/67401).
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// take returns a message from this P's stack, or nil.
func take() *Message {
	if raceEnabled {
		return nil
	}
	var m *Message
	if p := procPin(); p < len(pStacks) {
		if s := &pStacks[p]; s.n > 0 {
			s.n--
			m, s.m[s.n] = s.m[s.n], nil
		}
	}
	procUnpin()
	return m
}

// keep puts m on this P's stack; false when it is full.
func keep(m *Message) bool {
	if raceEnabled {
		return false
	}
	ok := false
	if p := procPin(); p < len(pStacks) {
		if s := &pStacks[p]; s.n < pStackLen {
			s.m[s.n] = m
			s.n++
			ok = true
		}
	}
	procUnpin()
	return ok
}
