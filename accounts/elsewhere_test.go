package accounts

import (
	"errors"
	"sync"
	"testing"
)

// otherNodes is a BindsElsewhere: fixed counts on the other nodes, and
// what this node reported.
type otherNodes struct {
	all    int
	byType [3]int
	mu     sync.Mutex
	told   [][4]int
}

func (o *otherNodes) Binds(string) (int, [3]int) { return o.all, o.byType }

func (o *otherNodes) Changed(_ string, all int, byType [3]int) {
	o.mu.Lock()
	o.told = append(o.told, [4]int{all, byType[0], byType[1], byType[2]})
	o.mu.Unlock()
}

// With the other nodes' binds shared, max_binds and max_binds_per_type
// count them; this node's changes are reported at each bind and release.
func TestBindsElsewhereCountAgainstTheLimits(t *testing.T) {
	u := testUser(t, "a", "pw")
	u.MaxBinds = 3
	u.MaxBindsPerType = [3]int{0, 1, 0} // one receiver
	s := mustStore(t, []User{u}, Options{})
	o := &otherNodes{all: 2, byType: [3]int{1, 1, 0}} // a transmitter and a receiver elsewhere
	s.SetBindsElsewhere(o)
	bind := func(bt BindType) (*Bind, error) { return s.Authenticate("a", "pw", bt, localIP) }
	if _, err := bind(BindReceiver); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("a receiver while another node holds the only one: %v", err)
	}
	tx, err := bind(BindTransmitter)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bind(BindTransmitter); !errors.Is(err, ErrTooManyBinds) {
		t.Fatalf("a fourth bind cluster-wide: %v", err)
	}
	tx.Release()
	tx.Release() // idempotent: reported once
	o.mu.Lock()
	told := o.told
	o.mu.Unlock()
	if len(told) != 2 || told[0] != [4]int{1, 1, 0, 0} || told[1] != [4]int{} {
		t.Fatalf("reported %v, want the bind then the release", told)
	}
	s.SetBindsElsewhere(nil)
	if _, err := bind(BindReceiver); err != nil {
		t.Fatalf("this process's limits again: %v", err)
	}
}
