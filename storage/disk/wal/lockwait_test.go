package wal

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestLockWaitTakesOverAfterRelease: a second Open with LockWait waits for
// the holder (an upgrade's old process) and opens once it closes, logging
// that it waits; one whose wait runs out fails with ErrLocked.
func TestLockWaitTakesOverAfterRelease(t *testing.T) {
	var lb logBuf
	o := opts(t, &lb)
	old := mustOpen(t, o)

	short := o
	short.LockWait = 100 * time.Millisecond
	t0 := time.Now()
	if _, err := Open(short); !errors.Is(err, ErrLocked) {
		t.Fatalf("Open with a wait shorter than the hold: %v", err)
	}
	if took := time.Since(t0); took < short.LockWait || took > 5*time.Second {
		t.Fatalf("refused after %v, want about %v", took, short.LockWait)
	}

	waiting := o
	waiting.LockWait = 10 * time.Second
	got := make(chan error, 1)
	var l *Log
	go func() {
		var err error
		l, err = Open(waiting)
		got <- err
	}()
	release := 300 * time.Millisecond
	select {
	case err := <-got:
		t.Fatalf("Open returned while the lock was held: %v", err)
	case <-time.After(release):
	}
	closeLog(t, old)
	t1 := time.Now()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Open after the release: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open still waiting 5 s after the release")
	}
	if took := time.Since(t1); took > time.Second {
		t.Fatalf("took over %v after the release", took)
	}
	closeLog(t, l)
	if !strings.Contains(lb.String(), `"event":"lock_wait"`) {
		t.Fatalf("no lock_wait line logged:\n%s", lb.String())
	}
}
