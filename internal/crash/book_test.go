package crash

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

// TestBookTally: what the final checks read from the book.
func TestBookTally(t *testing.T) {
	b := newBook()
	for range 4 {
		b.number()
	}
	b.acked([]byte("00000000000000a1"), 1) // case differs from the receipt's
	b.acked([]byte("00000000000000A2"), 2)
	b.acked([]byte("00000000000000A3"), 3)
	b.acked([]byte("00000000000000A3"), 4)                             // the same id for a second submit
	b.ackedMulti([]byte("00000000000000C4"), 11, []string{destOf(11)}) // its second destination refused
	b.refused(codec.StatusMsgQFul)
	b.cutOff(2, 1)

	b.receipt([]byte("00000000000000A1"), codec.MessageStateEnroute, nil) // not final
	b.receipt([]byte("00000000000000A1"), codec.MessageStateDelivered, nil)
	b.receipt([]byte("00000000000000A1"), codec.MessageStateDelivered, nil) // duplicate, the same body
	b.receipt([]byte("00000000000000A2"), codec.MessageStateRejected, nil)
	b.receipt([]byte("00000000000000A2"), codec.MessageStateDelivered, nil) // conflicting
	b.receipt([]byte("00000000000000B9"), codec.MessageStateDelivered, nil) // a submit whose answer a kill cut off
	b.receipt(nil, codec.MessageStateDelivered, nil)

	b.receipt([]byte("00000000000000C4"), codec.MessageStateDelivered, []byte("body"))
	b.receipt([]byte("00000000000000C4"), codec.MessageStateDelivered, []byte("bodY")) // duplicate, another body
	if b.pending() != 1 {
		t.Errorf("pending %d, want 1 (A3)", b.pending())
	}
	tl := b.tally()
	if tl.submits != 4 || tl.acked != 4 || tl.reuse != 1 || tl.lost != 2 || tl.lostMulti != 1 || tl.deniedN != 1 || tl.denied != "ESME_RMSGQFUL 1" {
		t.Errorf("submits %+v", tl)
	}
	if len(tl.missing) != 1 || tl.missing[0] != "00000000000000A3" {
		t.Errorf("missing %v", tl.missing)
	}
	if tl.receipts != 9 || tl.noID != 1 || tl.finalIDs != 4 || tl.dups != 3 || tl.unasked != 1 {
		t.Errorf("receipts %+v", tl)
	}
	if len(tl.conflicts) != 1 || tl.conflicts[0] != "00000000000000A2" {
		t.Errorf("conflicts %v", tl.conflicts)
	}
	if len(tl.differ) != 1 || tl.differ[0] != "00000000000000C4" {
		t.Errorf("duplicates with another body %v, want C4", tl.differ)
	}
	// Charged: the three acknowledged ids, C4's one destination and B9;
	// refunded: A2, failed first.
	if tl.charged != 5 || tl.refunded != 1 {
		t.Errorf("charged %d refunded %d, want 5 and 1", tl.charged, tl.refunded)
	}
	if second, ok := multiOf(11); !ok || second == destOf(11) || refusedDest([]byte(second)) {
		t.Errorf("multiOf(11) = %q %v", second, ok)
	}
	if _, ok := multiOf(27); ok {
		t.Error("multiOf(27): a destination the stub refuses")
	}
	if refusedDest([]byte(destOf(17))) == refusedDest([]byte(destOf(18))) || !refusedDest([]byte(destOf(7))) {
		t.Error("refusedDest does not follow the submit number's last digit")
	}
}
