package delivery

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// pushed records what the delivery side hands to Options.Pushes.
type pushed struct {
	mu     sync.Mutex
	mo     []string // route + " " + content
	finals []string // hex id + " " + state
	err    error
}

func (p *pushed) Final(rec *storage.Record, st msg.State, _ uint16, _ int64) {
	p.mu.Lock()
	p.finals = append(p.finals, string(rec.ID.AppendHex(nil))+" "+st.String())
	p.mu.Unlock()
}

func (p *pushed) PushMO(in *msg.Inbound, whole []byte, route string) error {
	text := whole
	if text == nil {
		text = in.ShortMessage
	}
	p.mu.Lock()
	p.mo = append(p.mo, route+" "+string(text))
	p.mu.Unlock()
	return p.err
}

// urlRoutes sends MO to 1234 to the URL route "web", others to user bob.
type urlRoutes struct{}

func (urlRoutes) RouteMO(in *msg.Inbound, _ []byte, _ time.Time) (string, string, bool) {
	if string(in.Dest) == "1234" {
		return "", "web", true
	}
	return "bob", "", true
}

func pushService(t *testing.T, p Pushes, reassemble bool) (*Service, *memory.Store) {
	t.Helper()
	st := memory.New(memory.Options{MaxRecords: 64, MaxHeld: 64})
	s, err := New(Options{Messages: st, Holds: st.Holds(), Routes: urlRoutes{}, Pushes: p,
		Settings: Settings{ReassembleMO: reassemble}})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func udhPart(ref, total, seq byte, text string) []byte {
	b, err := concat.AppendUDH(nil, concat.Segment{Ref: uint16(ref), Total: total, Seq: seq}, false, nil)
	if err != nil {
		panic(err)
	}
	return append(b, text...)
}

// TestMOToURL: an MO whose route names a URL goes to Pushes, not to a
// user; a concatenated one is joined first even with ReassembleMO off;
// without Pushes such an MO is unroutable.
func TestMOToURL(t *testing.T) {
	p := &pushed{}
	s, st := pushService(t, p, false)
	if err := s.MO(&msg.Inbound{Connector: "c", Source: []byte("4917"), Dest: []byte("1234"), ShortMessage: []byte("hi")}); err != nil {
		t.Fatal(err)
	}
	a, b := strings.Repeat("a", 150), strings.Repeat("b", 20)
	for _, part := range []struct {
		seq  byte
		text string
	}{{2, b}, {1, a}} {
		if err := s.MO(&msg.Inbound{Connector: "c", Source: []byte("4917"), Dest: []byte("1234"), ESMClass: codec.ESMClassUDHI,
			ShortMessage: udhPart(9, 2, part.seq, part.text)}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"web hi", "web " + a + b}; strings.Join(p.mo, "|") != strings.Join(want, "|") {
		t.Fatalf("pushed %q, want %q", p.mo, want)
	}
	// A user's parts still pass through one by one with ReassembleMO off.
	if err := s.MO(&msg.Inbound{Connector: "c", Source: []byte("4917"), Dest: []byte("99"), ESMClass: codec.ESMClassUDHI,
		ShortMessage: udhPart(3, 2, 1, "x")}); err != nil {
		t.Fatal(err)
	}
	if st.Holds().Len() != 1 || len(p.mo) != 2 {
		t.Fatalf("user MO part: held %d, pushed %d", st.Holds().Len(), len(p.mo))
	}
	// A refusal that kept nothing reaches the upstream.
	p.err = errors.New("store full")
	if err := s.MO(&msg.Inbound{Connector: "c", Source: []byte("1"), Dest: []byte("1234"), ShortMessage: []byte("x")}); err == nil {
		t.Fatal("a push that kept nothing answered nil")
	}

	s2, _ := pushService(t, nil, true)
	if err := s2.InjectMO(&msg.Inbound{Source: []byte("1"), Dest: []byte("1234"), ShortMessage: []byte("x")}); !errors.Is(err, ErrNoMORoute) {
		t.Fatalf("URL route without Pushes: %v, want ErrNoMORoute", err)
	}
}

// TestFinalPushed: the final state of a message reaches Pushes from a
// receipt and from an MT that failed here, whatever registered_delivery
// asks of the ESME's receipt; a late receipt does not.
func TestFinalPushed(t *testing.T) {
	p := &pushed{}
	s, st := pushService(t, p, true)
	for _, id := range []msg.ID{0x10, 0x20} {
		r := storage.Record{ID: id, SystemID: "bob", State: msg.StateEnroute, Submitted: time.Now().UnixNano()}
		if err := st.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Receipt(&msg.Receipt{ID: 0x10, State: msg.StateDelivered}); err != nil {
		t.Fatal(err)
	}
	if err := s.Receipt(&msg.Receipt{ID: 0x10, State: msg.StateUndeliverable}); err != nil { // late
		t.Fatal(err)
	}
	rec := storage.Record{ID: 0x20, SystemID: "bob", RegisteredDelivery: 1}
	s.FailedReceipt(&rec, msg.StateRejected, 0x0b, 5)
	want := []string{string(msg.ID(0x10).AppendHex(nil)) + " DELIVERED", string(msg.ID(0x20).AppendHex(nil)) + " REJECTED"}
	if strings.Join(p.finals, "|") != strings.Join(want, "|") {
		t.Fatalf("finals %q, want %q", p.finals, want)
	}
}
