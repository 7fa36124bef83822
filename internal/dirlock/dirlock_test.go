package dirlock

import (
	"errors"
	"testing"
)

func TestAcquireIsExclusiveUntilRelease(t *testing.T) {
	dir := t.TempDir()
	a, err := Acquire(dir, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	// flock locks belong to the open file description: a second open in
	// the same process conflicts as another process's would.
	if _, err := Acquire(dir, 0o640); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want ErrLocked", err)
	}
	a.Release()
	a.Release() // twice is harmless
	b, err := Acquire(dir, 0o640)
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	b.Release()
}
