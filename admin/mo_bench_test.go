package admin

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/audit"
	"github.com/smppd/smppd/msg"
)

// countMO takes every MO and counts it.
type countMO struct{ n atomic.Uint64 }

func (c *countMO) InjectMO(*msg.Inbound) error { c.n.Add(1); return nil }

// nopWriter is a ResponseWriter that keeps the status and drops the body.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(s int)           { w.status = s }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkInjectMO is POST /v1/mo through the admin API's whole handler
// (guards, audit, decode, answer), without the network and with an
// injector that only counts: ns/op is the admin API's own cost of one MO.
// The audit log is a file log (its fsync included), a memory log (the
// entry without the file) or none; the logger
// writes JSON or console lines at info to io.Discard, as the demo's
// log_level = "info" would.
func BenchmarkInjectMO(b *testing.B) {
	body := `{"source_addr":"4917000","destination_addr":"1234","short_message":"hi there"}`
	for _, c := range []struct {
		name    string
		audit   string // "file", "memory" or "" (none)
		console bool
	}{{"audit=file/log=json", "file", false}, {"audit=file/log=console", "file", true},
		{"audit=memory/log=console", "memory", true}, {"audit=none/log=console", "", true}} {
		b.Run(c.name, func(b *testing.B) {
			var w io.Writer = io.Discard
			if c.console {
				w = zerolog.ConsoleWriter{Out: io.Discard, NoColor: true}
			}
			inj := &countMO{}
			opts := Options{Addr: "127.0.0.1:0", MO: inj, Logger: zerolog.New(w).Level(zerolog.InfoLevel).With().Timestamp().Logger()}
			if c.audit != "" {
				dir := ""
				if c.audit == "file" {
					dir = b.TempDir()
				}
				al, err := audit.Open(audit.Options{Dir: dir})
				if err != nil {
					b.Fatal(err)
				}
				defer al.Close()
				opts.Audit = al
			}
			h := New(opts).http.Handler
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r, _ := http.NewRequest("POST", "http://127.0.0.1:8790/v1/mo", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.RemoteAddr = "127.0.0.1:40000"
				rw := nopWriter{h: http.Header{}}
				h.ServeHTTP(&rw, r)
				if rw.status != http.StatusAccepted {
					b.Fatalf("status %d", rw.status)
				}
			}
			if inj.n.Load() == 0 {
				b.Fatal("no MO reached the injector")
			}
		})
	}
}
