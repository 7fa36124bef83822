package delivery

import (
	"testing"

	"github.com/smppd/smppd/msg"
)

func TestWantsReceipt(t *testing.T) {
	f := func(reg byte, st msg.State, inter, want bool) {
		t.Helper()
		if got := WantsReceipt(reg, st, inter); got != want {
			t.Fatalf("registered_delivery %#x state %v intermediate %v: %v", reg, st, inter, got)
		}
	}
	f(0x00, msg.StateDelivered, false, false)
	f(0x01, msg.StateDelivered, false, true)
	f(0x01, msg.StateUndeliverable, false, true)
	f(0x01, msg.StateEnroute, false, false)
	f(0x02, msg.StateDelivered, false, false)
	f(0x02, msg.StateExpired, false, true)
	f(0x02, msg.StateRejected, false, true)
	f(0x02, msg.StateAccepted, false, false)
	f(0x03, msg.StateDelivered, false, true)
	f(0x03, msg.StateUndeliverable, false, false)
	f(0x10, msg.StateEnroute, true, true)
	f(0x01, msg.StateEnroute, true, false)
	f(0x11, msg.StateDelivered, false, true)
	f(0x0c, msg.StateDelivered, false, false) // SME acks only
}
