package cdr

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// t0 is the tests' clock at start.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock the tests move by hand.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(t0.UnixNano())
	return c
}

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) nowNs() int64            { return c.ns.Load() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// env is a stream on a memory store, not started: tests call step.
type env struct {
	t     testing.TB
	clk   *clock
	store *memory.Store
	s     *Stream
	dir   string
	logs  *bytes.Buffer
}

func newEnv(t testing.TB, tune func(o *Options)) *env {
	t.Helper()
	e := &env{t: t, clk: newClock(), dir: t.TempDir(), logs: &bytes.Buffer{}}
	e.store = memory.New(memory.Options{MaxRecords: 1 << 14, MaxUpstream: 1 << 14, TTL: 365 * 24 * time.Hour, Now: e.clk.nowNs})
	o := Options{Dir: e.dir, Messages: e.store, UpstreamIDs: e.store, Connectors: []string{"sim", "smsc-a"},
		Logger: zerolog.New(e.logs), Now: e.clk.now}
	if tune != nil {
		tune(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	t.Cleanup(func() { _ = e.s.Close() })
	return e
}

// put stores a record of id from src to dst, submitted now.
func (e *env) put(id uint64, user, src, dst, text string) storage.Record {
	e.t.Helper()
	r := storage.Record{ID: msg.ID(id), SystemID: user, State: msg.StateEnroute, RegisteredDelivery: 1,
		SourceTON: 5, SourceNPI: 0, DestTON: 1, DestNPI: 1, Connector: 1, Submitted: e.clk.nowNs(), Parts: 1,
		Charge: 50_000, ChargeParts: 1, MTRoute: "premium"}
	r.SetAddrs([]byte(src), []byte(dst), []byte(text))
	if err := e.store.Put(&r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// final reports id DELIVERED now.
func (e *env) final(id uint64) {
	e.s.Final(msg.Final{ID: msg.ID(id), State: msg.StateDelivered, Done: e.clk.nowNs()})
}

// step runs one writer step and waits for the syncer: what it closed is
// renamed and listed.
func (e *env) step() {
	e.writerStep()
	e.s.syncDone()
}

// writerStep is the writer's step alone (the syncer runs on its own).
func (e *env) writerStep() {
	e.s.mu.Lock()
	e.s.step(e.clk.nowNs())
	e.s.mu.Unlock()
}

// files lists the directory's CDR files (closed and part), sorted.
func (e *env) files() []string {
	e.t.Helper()
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, de := range ents {
		if _, _, _, _, ok := parseName(de.Name()); ok {
			out = append(out, de.Name())
		}
	}
	sort.Strings(out)
	return out
}

// lines decodes every line of every file, in file order.
func (e *env) lines() []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, name := range e.files() {
		f, err := os.Open(filepath.Join(e.dir, name))
		if err != nil {
			e.t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				e.t.Fatalf("%s: a line is not JSON: %v: %s", name, err, sc.Bytes())
			}
			out = append(out, m)
		}
		f.Close()
	}
	return out
}

// ids returns the "id" of each line.
func ids(lines []map[string]any) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _ = l["id"].(string)
	}
	return out
}

func hexID(id uint64) string { return msg.ID(id).String() }
