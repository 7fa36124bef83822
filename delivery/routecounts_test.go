package delivery

import (
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

type routeTally struct {
	mu  sync.Mutex
	got map[string]int
}

func (r *routeTally) Delivered(route string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got[route]++
}

// TestDeliveredCountedPerRoute: a final DELIVRD receipt counts on the MT
// route its record names, in both receipt paths; another final state, an
// intermediate and a late receipt do not.
func TestDeliveredCountedPerRoute(t *testing.T) {
	for _, durable := range []bool{false, true} {
		st := memory.New(memory.Options{MaxRecords: 16, MaxHeld: 16})
		rt := &routeTally{got: map[string]int{}}
		s, err := New(Options{Messages: st, Holds: st.Holds(), DeadLetters: st.DeadLetters(), Durable: durable, RouteCounts: rt})
		if err != nil {
			t.Fatal(err)
		}
		for id, route := range map[msg.ID]string{0x10: "de", 0x11: "de", 0x12: "fr"} {
			r := storage.Record{ID: id, SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano(), MTRoute: route}
			if err := st.Put(&r); err != nil {
				t.Fatal(err)
			}
		}
		done := time.Now().UnixNano()
		for _, rc := range []msg.Receipt{
			{ID: 0x10, State: msg.StateEnroute, Intermediate: true},
			{ID: 0x10, State: msg.StateDelivered, Done: done},
			{ID: 0x10, State: msg.StateDelivered, Done: done}, // late
			{ID: 0x11, State: msg.StateUndeliverable, Done: done},
			{ID: 0x12, State: msg.StateDelivered, Done: done},
		} {
			if err := s.Receipt(&rc); err != nil {
				t.Fatal(err)
			}
		}
		if len(rt.got) != 2 || rt.got["de"] != 1 || rt.got["fr"] != 1 {
			t.Fatalf("durable %v: delivered per route %v, want de 1, fr 1", durable, rt.got)
		}
	}
}
