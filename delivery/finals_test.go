package delivery

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

type finalsSeen struct {
	mu  sync.Mutex
	got []msg.Final
}

func (f *finalsSeen) Final(x msg.Final) {
	f.mu.Lock()
	defer f.mu.Unlock()
	x.UpstreamID = bytes.Clone(x.UpstreamID)
	f.got = append(f.got, x)
}

// TestReceiptReportsItsFinalStateOnce: the first final receipt of a
// message reports to Finals, with the receipt's upstream id and done
// time, in both the memory and the durable receipt path; a late one and
// an intermediate one do not.
func TestReceiptReportsItsFinalStateOnce(t *testing.T) {
	for _, durable := range []bool{false, true} {
		st := memory.New(memory.Options{MaxRecords: 16, MaxHeld: 16})
		f := &finalsSeen{}
		s, err := New(Options{Messages: st, Holds: st.Holds(), DeadLetters: st.DeadLetters(), Durable: durable, Finals: f})
		if err != nil {
			t.Fatal(err)
		}
		r := storage.Record{ID: 0x10, SystemID: "bob", State: msg.StateEnroute, RegisteredDelivery: 1, Submitted: time.Now().UnixNano()}
		if err := st.Put(&r); err != nil {
			t.Fatal(err)
		}
		done := time.Now().Add(-time.Minute).UnixNano()
		for _, rc := range []msg.Receipt{
			{ID: 0x10, State: msg.StateEnroute, Intermediate: true},
			{ID: 0x10, State: msg.StateUndeliverable, Err: 0x22, Done: done, UpstreamID: []byte("SMSC-9")},
			{ID: 0x10, State: msg.StateDelivered, Done: done}, // late
		} {
			if err := s.Receipt(&rc); err != nil {
				t.Fatal(err)
			}
		}
		if len(f.got) != 1 || f.got[0].ID != 0x10 || f.got[0].State != msg.StateUndeliverable || f.got[0].Err != 0x22 ||
			f.got[0].Done != done || string(f.got[0].UpstreamID) != "SMSC-9" || f.got[0].Refunded {
			t.Fatalf("durable %v: reported %+v, want the first final receipt's state once", durable, f.got)
		}
	}
}

// TestLogPrivacyMasksMONumbers: an unroutable MO's warning shows its
// numbers masked with LogPrivacy.
func TestLogPrivacyMasksMONumbers(t *testing.T) {
	var logs bytes.Buffer
	st := memory.New(memory.Options{MaxRecords: 16, MaxHeld: 16})
	s, err := New(Options{Messages: st, Holds: st.Holds(), LogPrivacy: true, Logger: zerolog.New(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	in := msg.Inbound{Source: []byte("+4917012345678"), Dest: []byte("4915198765432"), ShortMessage: []byte("hi")}
	if err := s.InjectMO(&in); err == nil {
		t.Fatal("an MO with no route was delivered")
	}
	out := logs.String()
	if strings.Contains(out, "4917012345678") || strings.Contains(out, "4915198765432") ||
		!strings.Contains(out, `"source":"+49********678"`) || !strings.Contains(out, `"dest":"491*******432"`) {
		t.Fatalf("want both numbers masked in the warning: %s", out)
	}
}
