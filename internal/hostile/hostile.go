// Package hostile attacks a real smppd process over loopback and measures
// how it holds up: floods, garbage framing, slowloris, idle connections,
// password guessing, a receiver that never reads, and hostile admin
// requests. Each case starts a fresh smppd child process (the binary built
// from ./cmd/smppd) on a copy of the demo configuration with free ports,
// runs a legitimate client beside the attack (demo/demopass from 127.0.0.1
// submitting 200 msg/s), samples the server's VmRSS, and returns figures
// and checks.
//
// The same cases serve the process-level test (loose bounds, in this
// package's tests) and cmd/smpphostile (exact figures against the targets).
// Linux only: memory comes from /proc/PID/status.
package hostile

import (
	"fmt"
	"time"
)

// MiB is 2^20 bytes.
const MiB = 1 << 20

// Source addresses: each attacker is a distinct loopback client, so per-IP
// limits see them apart from the legitimate client.
const (
	ipLegit     = "127.0.0.1"
	ipBrute     = "127.0.0.2"
	ipIdle      = "127.0.0.3"
	ipPrebind   = "127.0.0.4"
	ipBinding   = "127.0.0.5"
	ipBound     = "127.0.0.6"
	ipGarbage   = "127.0.0.7"
	ipStuck     = "127.0.0.8"
	ipHealthy   = "127.0.0.9"
	slowlorisIP = 10 // slowloris spreads over 127.0.0.10 .. 127.0.0.(10+slowlorisIPs-1)
)

// Demo accounts (configs/users.toml): the legitimate client is demo; the
// attackers that need a valid account use demo2 so that demo's bind count
// and credentials stay the legitimate client's.
const (
	demoUser  = "demo"
	demoPass  = "demopass"
	demo2User = "demo2"
	demo2Pass = "demopas2"
)

// Case is one attack with the figures the hardened server must reach.
type Case struct {
	Name string
	Doc  string // one line: what the attacker does
	// MaxRSSGrowth is the target for peak VmRSS minus VmRSS before the
	// attack (0 = no memory target). The test allows twice this.
	MaxRSSGrowth int64
	// LegitP99 is the target for the legitimate client's p99 submit
	// latency during the attack (0 = none). Only the measurement checks it;
	// the test asserts the looser "every submit answered within 1 s".
	LegitP99 time.Duration
	run      func(e *env, r *Result)
}

// Result is one finished case.
type Result struct {
	Case      string
	Took      time.Duration // the attack, from its start to its end
	RSSBefore int64         // bytes, just before the attack
	RSSPeak   int64         // bytes, the highest sample or VmHWM
	RSSAfter  int64         // bytes, a settle period after the attack
	Legit     LegitStats    // submits intended during the attack
	LogLines  int           // server log lines during the attack
	LogWarns  int           // of which warn or error
	Closes    map[string]int
	Figures   []Figure
	Checks    []Check
	// Err is a harness failure (the server did not start, a port could
	// not be found): the attack did not run as specified.
	Err     error
	LogTail []string // the server's last log lines, kept when Err is set
}

// Growth is RSSPeak - RSSBefore.
func (r *Result) Growth() int64 { return r.RSSPeak - r.RSSBefore }

// Figure is one measured value, printed as is.
type Figure struct {
	Name, Value string
}

// Check is one verdict. OK is against the target figure; Loose is the
// process test's verdict, against its looser bound (equal to OK where the
// test asserts the target itself, true where the test does not assert it).
type Check struct {
	Name  string
	Got   string
	OK    bool
	Loose bool
	// Brief, when set, stands for the failed check in the summary table
	// (whose other columns already show Got).
	Brief string
}

func (r *Result) figure(name, format string, a ...any) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: fmt.Sprintf(format, a...)})
}

// check records a verdict the test asserts as it is.
func (r *Result) check(name string, ok bool, format string, a ...any) {
	r.Checks = append(r.Checks, Check{Name: name, Got: fmt.Sprintf(format, a...), OK: ok, Loose: ok})
}

// Failed lists the failed checks: against the targets, or against the
// test's loose bounds when loose is set. A harness error is a failure.
func (r *Result) Failed(loose bool) []Check {
	var out []Check
	if r.Err != nil {
		out = append(out, Check{Name: "harness", Got: r.Err.Error()})
	}
	for _, c := range r.Checks {
		if (loose && !c.Loose) || (!loose && !c.OK) {
			out = append(out, c)
		}
	}
	return out
}

// Cases returns every attack in the order they run.
func Cases() []Case {
	return []Case{
		{Name: "prebind-flood", Doc: "4 connections x 8 s of 16-byte enquire_link_resp before any bind, writing as fast as possible, never reading (one the server closes is replaced)",
			MaxRSSGrowth: 64 * MiB, LegitP99: 100 * time.Millisecond, run: prebindFlood},
		{Name: "binding-flood", Doc: "4 connections x 5 s: bind_transmitter as demo2, then enquire_link as fast as possible without waiting for the bind_resp, never reading (one the server closes is replaced)",
			MaxRSSGrowth: 64 * MiB, LegitP99: 100 * time.Millisecond, run: bindingFlood},
		{Name: "bound-flood", Doc: "a session bound as demo2 floods enquire_link for 5 s and never reads (one the server closes is replaced)",
			MaxRSSGrowth: 64 * MiB, LegitP99: 100 * time.Millisecond, run: boundFlood},
		{Name: "garbage", Doc: "random bytes; command_length 0, 15, 0xFFFFFFFF, 1<<30 before a bind and after one: each must be closed within 2 s",
			run: garbage},
		{Name: "slowloris", Doc: "500 connections over 50 addresses dribble a bind header at 1 byte/s for 8 s",
			MaxRSSGrowth: 32 * MiB, run: slowloris},
		{Name: "idle", Doc: "3,000 connections from 127.0.0.3 that never send; demo must still bind within 1 s",
			run: idle},
		{Name: "brute-force", Doc: "200 wrong-password binds for demo from 127.0.0.2 (16 at a time); demo must still bind from 127.0.0.1 within 2 s",
			run: bruteForce},
		{Name: "stuck-receiver", Doc: "a receiver bound as demo never reads while 50,000 MO arrive for it; it must be closed as slow_consumer and every MO must reach the next receiver",
			MaxRSSGrowth: 128 * MiB, run: stuckReceiver},
		{Name: "admin", Doc: "POST /v1/mo without Content-Type and as text/plain (415), with Host: evil.example (4xx), GET /v1/mo (405)",
			run: adminRequests},
	}
}
