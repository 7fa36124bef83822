package accounts

import (
	"errors"
	"sync"
	"testing"
)

func TestMaxBindsPerType(t *testing.T) {
	u := testUser(t, "a", "pw")
	u.MaxBinds = 4
	u.MaxBindsPerType = [3]int{1, 0, 2} // one tx, any rx, two trx
	s := mustStore(t, []User{u}, Options{})
	bind := func(bt BindType) (*Bind, error) { return s.Authenticate("a", "pw", bt, localIP) }
	tx, err := bind(BindTransmitter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind(BindTransmitter); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("second transmitter: %v", err)
	}
	// The refused per-type bind gave its total slot back.
	if s.Binds("a") != 1 || s.BindsOfType("a", BindTransmitter) != 1 {
		t.Fatalf("counts %d/%d after a refusal", s.Binds("a"), s.BindsOfType("a", BindTransmitter))
	}
	t1, _ := bind(BindTransceiver)
	t2, err := bind(BindTransceiver)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind(BindTransceiver); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("third transceiver: %v", err)
	}
	rx, err := bind(BindReceiver)
	if err != nil {
		t.Fatal(err)
	}
	// Four held: max_binds refuses a receiver although receivers are unlimited.
	if _, err := bind(BindReceiver); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("over max_binds: %v", err)
	}
	tx.Release()
	tx.Release() // idempotent: frees one of each only
	if s.BindsOfType("a", BindTransmitter) != 0 || s.Binds("a") != 3 {
		t.Fatalf("after release: %d tx, %d total", s.BindsOfType("a", BindTransmitter), s.Binds("a"))
	}
	if tx2, err := bind(BindTransmitter); err != nil {
		t.Fatalf("transmitter after release: %v", err)
	} else {
		tx2.Release()
	}
	// A reload lowering the per-type limit keeps the held binds counted.
	u.MaxBindsPerType = [3]int{1, 1, 1}
	if err := s.Reload([]User{u}, nil); err != nil {
		t.Fatal(err)
	}
	if s.BindsOfType("a", BindTransceiver) != 2 || s.BindsOfType("a", BindReceiver) != 1 {
		t.Fatal("reload lost per-type counts")
	}
	if _, err := bind(BindReceiver); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("receiver over the lowered limit: %v", err)
	}
	for _, b := range []*Bind{t1, t2, rx} {
		b.Release()
	}
	if s.Binds("a") != 0 || s.BindsOfType("a", BindTransceiver) != 0 || s.BindsOfType("nobody", BindReceiver) != 0 ||
		s.BindsOfType("a", AllBindTypes) != 0 {
		t.Fatal("counts not back to zero")
	}
}

// TestMaxBindsPerTypeConcurrent: racing binds of one type get exactly the
// per-type limit, and the losers leave the total count untouched.
func TestMaxBindsPerTypeConcurrent(t *testing.T) {
	u := testUser(t, "a", "pw")
	u.MaxBindsPerType = [3]int{0, 7, 0}
	s := mustStore(t, []User{u}, Options{})
	var (
		mu  sync.Mutex
		won []*Bind
		wg  sync.WaitGroup
	)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				b, err := s.Authenticate("a", "pw", BindReceiver, localIP)
				if err == nil {
					mu.Lock()
					won = append(won, b)
					mu.Unlock()
				} else if !errors.Is(err, ErrTooManyBinds) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if len(won) != 7 || s.Binds("a") != 7 || s.BindsOfType("a", BindReceiver) != 7 {
		t.Fatalf("won %d, total %d, receivers %d; want 7", len(won), s.Binds("a"), s.BindsOfType("a", BindReceiver))
	}
	for _, b := range won {
		b.Release()
	}
	if s.Binds("a") != 0 {
		t.Fatal("not released")
	}
}
