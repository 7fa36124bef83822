package timers_test

import (
	"fmt"
	"time"

	"github.com/smppd/smppd/timers"
)

type session struct {
	id      int
	enquire timers.Timer // embedded: arming it never allocates
}

// The owner (one event loop) embeds timers in its structs, drives the wheel
// with its own clock, and handles expiries on its own goroutine.
func Example() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var w *timers.Wheel
	w = timers.NewWheel(10*time.Millisecond, start, func(t *timers.Timer) {
		s := t.Arg.(*session)
		fmt.Printf("session %d: enquire_link due at %v\n", s.id, w.Now().Sub(start))
		w.Schedule(t, 30*time.Second) // periodic: re-arm from inside the handler
	})
	s := &session{id: 7}
	s.enquire.Arg = s
	w.Schedule(&s.enquire, 30*time.Second)
	for now := start; now.Sub(start) <= 90*time.Second; now = now.Add(10 * time.Millisecond) {
		w.Advance(now) // the loop posts one tick per 10 ms
	}
	next, _ := w.NextExpiry()
	fmt.Println("next:", next.Sub(start), "armed:", w.Len())
	// Output:
	// session 7: enquire_link due at 30s
	// session 7: enquire_link due at 1m0s
	// session 7: enquire_link due at 1m30s
	// next: 2m0s armed: 1
}
