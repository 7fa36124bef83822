package hostile

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

const (
	warmup = 500 * time.Millisecond // the legitimate client runs alone first
	// minWindow is the shortest legitimate-client window: a quick attack
	// (garbage, admin) still gets a few hundred submits measured beside it.
	minWindow = 2 * time.Second
	settle    = time.Second // after the attack, before "RSS after"
	// caseCap bounds one case whatever the attack does; each attack bounds
	// itself well below it.
	caseCap = 90 * time.Second
)

// Options configure Run.
type Options struct {
	Binary    string // the smppd binary
	ConfigDir string // holds the demo's smppd.toml and users.toml
	WorkDir   string // each case writes its config in a new directory here
	// MaxGrowth stops an attack early when the server's VmRSS grows by
	// more than this, to spare the host (0: DefaultMaxGrowth; < 0: never).
	// Every target is far below it, so a stopped attack has failed anyway.
	MaxGrowth int64
	// Logf, when set, gets progress lines.
	Logf func(format string, a ...any)
}

// DefaultMaxGrowth is Options.MaxGrowth's default.
const DefaultMaxGrowth = 1024 * MiB

// env is what an attack gets.
type env struct {
	ctx  context.Context
	srv  *server
	mark logMark // the log position at the attack's start
	logf func(format string, a ...any)
}

// Run starts a fresh smppd, the legitimate client, and the attack of c;
// it returns the figures and checks. It never panics on a server failure:
// that is a failed check (or Err when the harness itself could not run).
func Run(o Options, c Case) *Result {
	r := &Result{Case: c.Name}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithTimeout(context.Background(), caseCap)
	defer cancel()
	dir, err := os.MkdirTemp(o.WorkDir, c.Name+"-")
	if err != nil {
		r.Err = err
		return r
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(o.Binary, o.ConfigDir, dir)
	if err != nil {
		r.Err = err
		return r
	}
	defer srv.stop()
	lg, err := startLegit(ctx, srv)
	if err != nil {
		r.Err, r.LogTail = err, srv.logs.lastLines()
		return r
	}
	time.Sleep(warmup)

	r.RSSBefore = srv.rss.reset()
	actx, abort := context.WithCancel(ctx)
	defer abort()
	start := time.Now()
	var stopped atomic.Value // why the attack was stopped early
	if limit := o.MaxGrowth; limit >= 0 {
		if limit == 0 {
			limit = DefaultMaxGrowth
		}
		srv.rss.onOver(r.RSSBefore+limit, func(rss int64) {
			stopped.Store(fmt.Sprintf("VmRSS %s passed before + %s after %s", mib(rss), mib(limit), seconds(time.Since(start))))
			abort()
		})
	}
	e := &env{ctx: actx, srv: srv, mark: srv.logs.mark(), logf: logf}
	logf("%s: %s", c.Name, c.Doc)
	c.run(e, r)
	r.Took = time.Since(start)
	srv.rss.onOver(0, nil)
	if why, ok := stopped.Load().(string); ok {
		r.figure("attack stopped early", "%s", why)
	}
	if d := minWindow - r.Took; d > 0 {
		time.Sleep(d)
	}
	end := time.Now()
	lg.stop()
	r.Legit = lg.stats(start, end)
	time.Sleep(settle)
	r.RSSPeak = srv.rss.peakSince()
	r.RSSAfter = srv.rss.now()
	r.LogLines, r.LogWarns, r.Closes = srv.logs.since(e.mark)

	ok := r.Legit.Sent > 0 && r.Legit.Missed == 0 && r.Legit.Late == 0 && r.Legit.Err == ""
	r.Checks = append(r.Checks, Check{Name: "legit: every submit answered within 1 s", Got: r.Legit.String(),
		OK: ok, Loose: ok, Brief: "legit answers late or missing"})
	if c.LegitP99 > 0 {
		r.Checks = append(r.Checks, Check{Name: "legit: p99 <= " + ms(c.LegitP99), Got: ms(r.Legit.P99),
			OK: r.Legit.Answered > 0 && r.Legit.P99 <= c.LegitP99, Loose: true, Brief: "legit p99 > " + ms(c.LegitP99)})
	}
	if c.MaxRSSGrowth > 0 {
		g := r.Growth()
		r.Checks = append(r.Checks, Check{Name: "RSS growth <= " + mib(c.MaxRSSGrowth) + " (test: <= " + mib(2*c.MaxRSSGrowth) + ")",
			Got: fmt.Sprintf("%s (%s -> peak %s)", mib(g), mib(r.RSSBefore), mib(r.RSSPeak)),
			OK:  g <= c.MaxRSSGrowth, Loose: g <= 2*c.MaxRSSGrowth, Brief: "RSS growth > " + mib(c.MaxRSSGrowth)})
	}
	if !srv.alive() {
		r.check("smppd still running", false, "exited: %v", srv.exitErr)
		r.LogTail = srv.logs.lastLines()
	}
	return r
}

// closeReasons formats the close reasons logged during the attack.
func (r *Result) closeReasons() string {
	if len(r.Closes) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(r.Closes))
	for k := range r.Closes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, r.Closes[k])
	}
	return b.String()
}
