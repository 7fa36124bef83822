package crash

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// caseCap bounds one case whatever smppd does; each phase bounds itself
// well below it.
const caseCap = 150 * time.Second

// env is what a case gets.
type env struct {
	ctx   context.Context
	o     Options
	r     *Result
	rng   *rand.Rand
	dir   string
	b     *book
	srv   *server
	cfg   *derived
	kills int
	logf  func(format string, a ...any)
}

// Run runs one case on a fresh smppd and returns its figures and checks.
// It never panics on a server failure: that is a failed check, or Err
// when the harness itself could not run.
func Run(o Options, c Case) *Result {
	o.defaults()
	r := &Result{Case: c.Name, Seed: o.Seed}
	// smppd runs in the case's folder: a relative path would be taken from there.
	if abs, err := filepath.Abs(o.Binary); err == nil {
		o.Binary = abs
	}
	start := time.Now()
	defer func() { r.Took = time.Since(start) }()
	if c.Disk && o.Storage != "disk" {
		r.Skipped = "needs the disk store (-storage disk)"
		return r
	}
	dir, err := os.MkdirTemp(o.WorkDir, c.Name+"-")
	if err != nil {
		r.Err = err
		return r
	}
	dir, _ = filepath.Abs(dir)
	ctx, cancel := context.WithTimeout(context.Background(), caseCap)
	defer cancel()
	h := fnv.New64a()
	h.Write([]byte(c.Name))
	e := &env{ctx: ctx, o: o, r: r, rng: rand.New(rand.NewPCG(o.Seed, h.Sum64())), dir: dir, b: newBook(),
		logf: func(format string, a ...any) { o.Logf(c.Name+": "+format, a...) }}
	e.logf("%s (seed %d)", c.Doc, o.Seed)
	c.run(e)
	if e.srv != nil {
		if err := e.srv.stop(); err != nil && r.Err == nil {
			r.check("smppd exits cleanly on SIGTERM at the end", false, "%v", err)
		}
		r.LogPath = filepath.Join(dir, "smppd.log")
		if r.Err != nil || len(r.Failed()) > 0 {
			r.LogTail = e.srv.lastLines(logTailLen)
		}
		e.srv.close()
	}
	return r
}

// boot writes the case's config and starts smppd on it.
func (e *env) boot(s setup) bool {
	s.dir = e.dir
	if s.storage == "" {
		s.storage = e.o.Storage
	}
	hash, err := passwdHash(e.o.Binary)
	if err != nil {
		e.r.Err = err
		return false
	}
	cfg, err := writeConfig(e.o.ConfigDir, s, hash)
	if err != nil {
		e.r.Err = err
		return false
	}
	e.cfg = cfg
	if e.srv, err = newServer(e.o.Binary, cfg.path, e.dir, cfg.smppPort, cfg.adminPort); err != nil {
		e.r.Err = err
		return false
	}
	t0 := time.Now()
	if err := e.srv.start(); err != nil {
		e.r.Err = fmt.Errorf("first start: %w", err)
		return false
	}
	e.r.figure("first start", "%s (storage %s, store %s)", ms(time.Since(t0)), s.storage, cfg.storeDir)
	return true
}

// between returns a random duration in [lo, hi).
func (e *env) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(e.rng.Int64N(int64(hi-lo)))
}

// killRestart SIGKILLs smppd after up to the given load time and restarts
// it after a random downtime; it reports false when the case must end.
func (e *env) killRestart(i int, runLo, runHi time.Duration) bool {
	run := e.between(runLo, runHi)
	sleepCtx(e.ctx, run)
	if e.ctx.Err() != nil {
		e.r.Err = fmt.Errorf("case time limit (%s) reached", caseCap)
		return false
	}
	if !e.srv.alive() {
		e.r.check("smppd runs until it is killed", false, "it exited on its own before kill %d: %v", i+1, e.srv.exitError())
		return false
	}
	acked := e.b.ackCount()
	e.srv.kill()
	e.kills++
	down := e.between(100*time.Millisecond, time.Second)
	sleepCtx(e.ctx, down)
	t0 := time.Now()
	if err := e.srv.start(); err != nil {
		e.r.Err = fmt.Errorf("restart after kill %d: %w", i+1, err)
		return false
	}
	e.logf("kill %d after %s of work (%d acknowledged so far), %s down, restarted in %s", i+1, ms(run), acked, ms(down), ms(time.Since(t0)))
	e.r.figure(fmt.Sprintf("kill %d", i+1), "after %s of work, %s down, restart %s", ms(run), ms(down), ms(time.Since(t0)))
	return true
}

// waitFor polls cond every 50 ms until it holds or limit passes.
func (e *env) waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || e.ctx.Err() != nil {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *env) loadOpts() loadOpts {
	return loadOpts{addr: e.srv.smppAddr, sessions: e.o.Sessions, window: e.o.Window, rate: e.o.Rate}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
