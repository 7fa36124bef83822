package webhook

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/storage"
)

// TestRetriedAnswers: a 500, a 503, a 408, a 429 and a 302 are each
// retried; the callback arrives once it gets a 2xx, and only then is it
// acknowledged in the store.
func TestRetriedAnswers(t *testing.T) {
	for _, code := range []int{500, 503, 408, 429, 302} {
		t.Run(statusText(code), func(t *testing.T) {
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n <= 2 {
					w.Header().Set("Location", "/elsewhere")
					w.WriteHeader(code)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			f := newFixture(t, nil)
			if err := f.s.Enqueue(req(rc.url("/dlr"), "1")); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				if h := rc.wait(t, 5*time.Second); h.form.Get("n") != "1" || h.path != "/dlr" {
					t.Fatalf("request %+v", h)
				}
			}
			eventually(t, 2*time.Second, "sent and acknowledged", func() bool {
				st := f.s.Stats()
				return st.Receipts.Sent == 1 && st.Pending == 0 && f.store.Holds().Len() == 0
			})
			if st := f.s.Stats(); st.Receipts.Retried != 2 || st.Receipts.Permanent != 0 {
				t.Fatalf("stats %+v", st.Receipts)
			}
			if rc.count() != 3 {
				t.Fatalf("%d requests, want 3 (no redirect followed, nothing after success)", rc.count())
			}
		})
	}
}

// TestRetriedOnTimeout: an answer slower than Timeout is abandoned and the
// callback is sent again.
func TestRetriedOnTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	f := newFixture(t, func(o *Options) { o.Timeout = 100 * time.Millisecond })
	if err := f.s.Enqueue(req(rc.url("/"), "t")); err != nil {
		t.Fatal(err)
	}
	rc.wait(t, 5*time.Second)
	second := rc.wait(t, 5*time.Second)
	if second.form.Get("n") != "t" {
		t.Fatalf("second request %+v", second)
	}
	eventually(t, 2*time.Second, "sent after the timeout", func() bool { return f.s.Stats().Receipts.Sent == 1 })
	if st := f.s.Stats().Receipts; st.Retried != 1 {
		t.Fatalf("stats %+v, want one retry", st)
	}
}

// TestPermanent: a 404 (and any 4xx but 408 and 429) is not retried: the
// callback is acknowledged and kept as a dead letter with its reason.
func TestPermanent(t *testing.T) {
	for _, code := range []int{404, 400, 401, 410} {
		t.Run(statusText(code), func(t *testing.T) {
			rc := newReceiver(t, status(code, "no"))
			f := newFixture(t, nil)
			r := req(rc.url("/gone"), "p")
			r.ID = 0xabc
			if err := f.s.Enqueue(r); err != nil {
				t.Fatal(err)
			}
			rc.wait(t, 5*time.Second)
			eventually(t, 2*time.Second, "dead letter", func() bool { return f.store.DeadLetters().Len() == 1 })
			time.Sleep(150 * time.Millisecond) // longer than RetryMax: a retry would have come
			if rc.count() != 1 {
				t.Fatalf("%d requests for a permanent %d, want 1", rc.count(), code)
			}
			d := deadLetters(t, f.store)[0]
			if d.Kind != storage.HeldCallback || d.SystemID != "alice" || d.ID != 0xabc || d.Reason != statusText(code) {
				t.Fatalf("dead letter %+v", d)
			}
			var back Request
			if err := decodeRequest(d.Body, &back); err != nil || back.URL != r.URL || string(back.Params) != string(r.Params) {
				t.Fatalf("dead letter body decodes to %+v, %v", back, err)
			}
			st := f.s.Stats()
			if st.Receipts.Permanent != 1 || st.Receipts.Sent != 0 || st.Pending != 0 || f.store.Holds().Len() != 0 {
				t.Fatalf("stats %+v, held %d", st, f.store.Holds().Len())
			}
		})
	}
}

// TestAckBodyRequired: with an AckBody ("ACK/Jasmin"), a 200 with another
// body is retried; the exact body (surrounding white space aside) is
// success.
func TestAckBodyRequired(t *testing.T) {
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 1:
			_, _ = io.WriteString(w, "OK")
		case 2:
			_, _ = io.WriteString(w, "ACK/Jasmin please")
		default:
			_, _ = io.WriteString(w, "ACK/Jasmin\r\n")
		}
	})
	f := newFixture(t, nil)
	r := req(rc.url("/mo"), "a")
	r.AckBody = "ACK/Jasmin"
	if err := f.s.Enqueue(r); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rc.wait(t, 5*time.Second)
	}
	eventually(t, 2*time.Second, "sent", func() bool { return f.s.Stats().Receipts.Sent == 1 })
	if st := f.s.Stats().Receipts; st.Retried != 2 {
		t.Fatalf("stats %+v, want 2 retries", st)
	}
}

// TestExpiry: a callback that keeps failing goes to the dead letters as
// expired once the next attempt would come after HoldLifetime.
func TestExpiry(t *testing.T) {
	rc := newReceiver(t, status(500, ""))
	f := newFixture(t, func(o *Options) { o.HoldLifetime = 200 * time.Millisecond })
	if err := f.s.Enqueue(req(rc.url("/"), "e")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "expired", func() bool { return f.s.Stats().Receipts.Expired == 1 })
	d := deadLetters(t, f.store)
	if len(d) != 1 || !strings.Contains(d[0].Reason, "expired") || !strings.Contains(d[0].Reason, "HTTP 500") {
		t.Fatalf("dead letters %+v", d)
	}
	if n := rc.count(); n < 2 {
		t.Fatalf("%d attempts before expiry, want several", n)
	}
	if f.store.Holds().Len() != 0 || f.s.Pending() != 0 {
		t.Fatal("an expired callback is still held")
	}
}

// TestTargetIsolation: a target that never answers (every sender stuck
// until the timeout) does not delay another target's callbacks.
func TestTargetIsolation(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	var hung atomic.Int64
	slow := newReceiver(t, func(_ int, _ http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	fast := newReceiver(t, status(200, ""))
	f := newFixture(t, func(o *Options) { o.Timeout = 10 * time.Second; o.MaxPerTarget = 4 })
	for i := range 50 {
		if err := f.s.Enqueue(req(slow.url("/"), string(rune('a'+i%26)))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 5*time.Second, "the slow target's senders all stuck", func() bool { return hung.Load() == 4 })
	t0 := time.Now()
	for i := range 20 {
		if err := f.s.Enqueue(req(fast.url("/"), string(rune('a'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		fast.wait(t, 5*time.Second)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("the fast target took %v behind a hung one", d)
	}
	if n := hung.Load(); n != 4 {
		t.Fatalf("%d requests in flight to the hung target, want MaxPerTarget (4)", n)
	}
	eventually(t, 2*time.Second, "only the hung target's callbacks pending", func() bool {
		st := f.s.Stats()
		return st.Targets == 1 && st.Pending == 50 && st.Receipts.Sent == 20
	})
}

// TestLimits: past MaxPendingPerTarget a target's callbacks are refused
// (the other targets still take theirs), past MaxPending everyone's; each
// refusal is counted and kept as a dead letter. A bad URL is refused too.
func TestLimits(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	block := func(_ int, _ http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}
	a, b, c := newReceiver(t, block), newReceiver(t, block), newReceiver(t, block)
	f := newFixture(t, func(o *Options) { o.MaxPendingPerTarget = 3; o.MaxPending = 5; o.MaxPerTarget = 1 })
	for i := range 3 {
		if err := f.s.Enqueue(req(a.url("/"), "a")); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := f.s.Enqueue(req(a.url("/"), "a")); !errors.Is(err, ErrTargetFull) {
		t.Fatalf("4th callback to one target: %v, want ErrTargetFull", err)
	}
	for range 2 {
		if err := f.s.Enqueue(req(b.url("/"), "b")); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.s.Enqueue(req(c.url("/"), "c")); !errors.Is(err, ErrFull) {
		t.Fatalf("6th callback in all: %v, want ErrFull", err)
	}
	if err := f.s.Enqueue(req("ftp://127.0.0.1/x", "x")); !errors.Is(err, ErrBadURL) {
		t.Fatalf("ftp URL: %v, want ErrBadURL", err)
	}
	if st := f.s.Stats(); st.Receipts.Refused != 3 || st.Pending != 5 {
		t.Fatalf("stats %+v", st)
	}
	if n := f.store.DeadLetters().Len(); n != 3 {
		t.Fatalf("%d dead letters, want the 3 refusals", n)
	}
}

// TestStopKeepsPending: Stop leaves what is pending held, and a callback
// enqueued after Stop is held unleased for the next Start.
func TestStopKeepsPending(t *testing.T) {
	rc := newReceiver(t, status(503, ""))
	f := newFixture(t, func(o *Options) { o.RetryMin, o.RetryMax, o.HoldLifetime = time.Hour, time.Hour, 48*time.Hour })
	if err := f.s.Enqueue(req(rc.url("/"), "1")); err != nil {
		t.Fatal(err)
	}
	rc.wait(t, 5*time.Second)
	eventually(t, 2*time.Second, "waiting for its retry", func() bool { return f.s.Stats().Waiting == 1 })
	stop(f.s)
	if err := f.s.Enqueue(req(rc.url("/"), "2")); err != nil {
		t.Fatal(err)
	}
	if n := f.store.Holds().Len(); n != 2 {
		t.Fatalf("%d held after Stop, want 2", n)
	}
}
