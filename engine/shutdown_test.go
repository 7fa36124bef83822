package engine

import (
	"context"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

func TestShutdownUnbindsSessionsAndWaits(t *testing.T) {
	t.Parallel()
	ts := start(t, nil)
	polite := ts.bound(t, codec.BindTransceiverID)
	silent := ts.bound(t, codec.BindReceiverID)
	open := ts.dial(t)
	mustSend(t, open, codec.EnquireLinkID, 1, nil)
	mustExpect(t, open, codec.EnquireLinkRespID, codec.StatusOK)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		done <- ts.Shutdown(ctx)
	}()
	h, _ := mustExpect(t, polite, codec.UnbindID, codec.StatusOK)
	mustSend(t, polite, codec.UnbindRespID, h.Sequence, nil)
	mustClosed(t, polite)
	mustClosed(t, open)
	mustExpect(t, silent, codec.UnbindID, codec.StatusOK) // never answers: closed at grace end
	mustClosed(t, silent)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("Shutdown did not return")
	}
	if n := ts.auth.released.Load(); n != 2 {
		t.Fatalf("released %d principals", n)
	}
	ts.logs.waitLog(t, `"reason":"shutdown"`)
	if err := ts.Shutdown(context.Background()); err != ErrNotRunning {
		t.Fatalf("second shutdown: %v", err)
	}
}
