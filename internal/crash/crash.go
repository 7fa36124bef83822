// Package crash runs smppd as a real process on a disk store, kills it
// with SIGKILL at random moments under load, restarts it, and checks that
// it kept every promise an ESME_ROK made (issue 16): each acknowledged
// message reaches exactly one final state and its receipt reaches the
// ESME (duplicates counted, allowed only for deliver_sm in flight at a
// kill), query_sm finds it, and the balance equals the ledger's sum. The
// same runs against an upstream SMSC stub that sends receipts while smppd
// is down, with held MO, and on a full disk (a private tmpfs).
//
// Every case starts from the demo configuration (configs/smppd.toml) with
// [storage] kind = "disk", dir in a scratch folder and sync = "always",
// free loopback ports, and an account of its own with a balance and a
// billed route. Kill times, downtimes and the stub's receipt delays come
// from a seeded generator; the seed is printed so a run can be repeated
// (the moments smppd is killed relative to its work still vary).
//
// The same cases serve the process-level test (this package's tests,
// outside the race detector) and cmd/smppcrash. Linux only. Only the PIDs
// the harness started are ever signalled.
package crash

import (
	"fmt"
	"time"
)

// Options configure Run.
type Options struct {
	Binary    string // the smppd binary
	ConfigDir string // holds the demo's smppd.toml and users.toml
	WorkDir   string // each case writes its config, store and log in a new folder here
	Seed      uint64 // kill times, downtimes and the stub's receipt delays
	// Storage is "disk" (the default) or "memory": the latter runs the
	// client side against a build without the durable store (with Kills
	// 0 it must pass; with kills it shows what a crash loses).
	Storage string
	// Kills is the number of SIGKILL + restart cycles of each kill case:
	// 0 is none (a smoke run of the client side), < 0 is DefaultKills.
	Kills int
	// Rate is submits per second over Sessions transmitters, each with
	// Window submits awaiting their answer; Receivers receiver binds take
	// the receipts and MO.
	Rate      float64
	Sessions  int
	Window    int
	Receivers int
	Logf      func(format string, a ...any) // progress lines, when set
}

// Defaults of Options.
const (
	DefaultKills     = 4
	DefaultRate      = 600
	DefaultSessions  = 4
	DefaultWindow    = 16
	DefaultReceivers = 2
)

func (o *Options) defaults() {
	if o.Storage == "" {
		o.Storage = "disk"
	}
	if o.Kills < 0 {
		o.Kills = DefaultKills
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.Sessions <= 0 {
		o.Sessions = DefaultSessions
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.Receivers <= 0 {
		o.Receivers = DefaultReceivers
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Case is one scenario.
type Case struct {
	Name string
	Doc  string
	// Disk is set for a case that needs the disk store.
	Disk bool
	run  func(e *env)
}

// Cases returns every case in the order they run.
func Cases() []Case {
	return []Case{
		{Name: "sim-kill", Doc: "MT with receipts through the built-in simulator; SIGKILL under load, restart, rebind, repeat",
			run: simKill},
		{Name: "upstream-kill", Doc: "MT with receipts through an smpp connector to a stub SMSC that keeps sending receipts while smppd is down; then MO held for an unbound receiver across kills",
			run: upstreamKill},
		{Name: "disk-full", Doc: "the store's file system fills up (a private tmpfs): new submits ESME_RMSGQFUL, /v1/ready not ready, then recovery when space returns",
			Disk: true, run: diskFull},
	}
}

// Result is one finished case.
type Result struct {
	Case    string
	Seed    uint64
	Took    time.Duration
	Figures []Figure
	Checks  []Check
	// Err is a harness failure: the case did not run as specified (smppd
	// did not start, a port could not be found).
	Err error
	// Skipped says why the case could not run here (no tmpfs).
	Skipped string
	LogTail []string // smppd's last log lines, kept when something failed
	LogPath string   // every run's log, while WorkDir exists
}

// Figure is one measured value.
type Figure struct{ Name, Value string }

// Check is one verdict.
type Check struct {
	Name string
	Got  string
	OK   bool
}

func (r *Result) figure(name, format string, a ...any) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: fmt.Sprintf(format, a...)})
}

func (r *Result) check(name string, ok bool, format string, a ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Got: fmt.Sprintf(format, a...), OK: ok})
}

// Failed lists the failed checks; a harness error is one.
func (r *Result) Failed() []Check {
	var out []Check
	if r.Err != nil {
		out = append(out, Check{Name: "harness", Got: r.Err.Error()})
	}
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}
