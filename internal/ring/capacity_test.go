package ring

import (
	"errors"
	"testing"
)

func TestCapacity(t *testing.T) {
	f := func(in int, want int) {
		t.Helper()
		m, err := NewMPSC[int](in)
		if err != nil {
			t.Fatalf("NewMPSC(%d): %v", in, err)
		}
		if m.Cap() != want {
			t.Fatalf("capacity %d: Cap %d, want %d", in, m.Cap(), want)
		}
	}
	f(1, 2)
	f(2, 2)
	f(3, 4)
	f(4, 4)
	f(5, 8)
	f(1000, 1024)
	f(1024, 1024)
	f(1025, 2048)

	for _, bad := range []int{0, -1, MaxCapacity + 1} {
		if _, err := NewMPSC[int](bad); !errors.Is(err, ErrCapacity) {
			t.Fatalf("NewMPSC(%d): err %v, want ErrCapacity", bad, err)
		}
	}
}
