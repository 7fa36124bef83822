package admin

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// flakyAudit is an AuditLog whose writes fail while broken is set.
type flakyAudit struct {
	mu     sync.Mutex
	broken bool
	lines  []string
}

func (f *flakyAudit) Append(rec []byte) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.broken {
		return 0, errors.New("no space left on device")
	}
	f.lines = append(f.lines, string(rec))
	return uint64(len(f.lines)), nil
}

func (f *flakyAudit) Read(uint64, time.Time, int) ([][]byte, bool, error) { return nil, false, nil }

func (f *flakyAudit) set(broken bool) {
	f.mu.Lock()
	f.broken = broken
	f.mu.Unlock()
}

// TestAuditFailClosed: a change whose entry cannot be written is answered
// 500 audit_failed (it was made: said so, and logged with the entry);
// changes after it are refused with 503 before they run, each trying its
// own entry, until one is written; reads go on.
func TestAuditFailClosed(t *testing.T) {
	f, al := &fakeMO{}, &flakyAudit{broken: true}
	base := start(t, Options{MO: f, Audit: al})
	st, m := do(t, "POST", base+"/v1/mo", "", moBody)
	if st != 500 || errCode(m) != "audit_failed" || !strings.Contains(m["error"].(map[string]any)["message"].(string), "the change was made (HTTP 202)") {
		t.Fatalf("first change: %d %v", st, m)
	}
	if len(f.got) != 1 {
		t.Fatalf("the injector saw %d MOs", len(f.got))
	}
	if st, m := do(t, "POST", base+"/v1/mo", "", moBody); st != 500 || errCode(m) != "audit_failed" {
		t.Fatalf("while broken: %d %v", st, m)
	}
	if len(f.got) != 1 {
		t.Fatalf("a change ran while the audit log was down: %d MOs", len(f.got))
	}
	if st, _ := do(t, "GET", base+"/v1/health", "", ""); st != 200 {
		t.Errorf("health: %d", st)
	}
	al.set(false)
	// The first write after the repair records its own refusal and is
	// still refused; the next one runs.
	if st, m := do(t, "POST", base+"/v1/mo", "", moBody); st != 503 || errCode(m) != "audit_unavailable" {
		t.Fatalf("first after repair: %d %v", st, m)
	}
	if st, _ := do(t, "POST", base+"/v1/mo", "", moBody); st != 202 || len(f.got) != 2 {
		t.Fatalf("after repair: %d, %d MOs", st, len(f.got))
	}
	if len(al.lines) != 2 || !strings.Contains(al.lines[0], `"status":503`) || !strings.Contains(al.lines[1], `"status":202`) {
		t.Errorf("entries: %v", al.lines)
	}
}

// TestAuditFailureLogged: the lost entry goes to the server log whole.
func TestAuditFailureLogged(t *testing.T) {
	var logs syncBuffer
	al := &flakyAudit{broken: true}
	srv := New(Options{Addr: "127.0.0.1:0", MO: &fakeMO{}, Audit: al, Logger: zerolog.New(&logs)})
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	do(t, "POST", "http://"+srv.Addr().String()+"/v1/mo", "", moBody)
	l := logs.String()
	if !strings.Contains(l, `"event":"audit_failed"`) || !strings.Contains(l, `"entry":{"token":"anonymous"`) ||
		!strings.Contains(l, `"destination_addr":"1234"`) {
		t.Errorf("log:\n%s", l)
	}
	if n, errs := srv.AuditStats(); n != 0 || errs != 1 {
		t.Errorf("AuditStats = %d, %d", n, errs)
	}
}
