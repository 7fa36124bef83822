package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// roles name goroutines by a function on their own stacks; the first match
// wins (the syncer's runSyncer also matches the writer's run).
var roles = []struct{ name, fn string }{
	{"cdr-syncer", "cdr.(*Stream).runSyncer"},
	{"cdr-writer", "cdr.(*Stream).run"},
	{"event-loop", "gnet/v2.(*eventloop).orbit"},
	{"acceptor", "gnet/v2.(*eventloop).rotate"},
	{"gnet-ticker", "gnet/v2.(*eventloop).ticker"},
	{"connector", "connector.(*Runtime).run"},
	{"disk-log", "wal.(*Log).run"},
	{"gc", "runtime.gcBgMarkWorker"},
}

func roleOf(funcs map[string]bool) string {
	for _, r := range roles {
		for fn := range funcs {
			if strings.Contains(fn, r.fn) {
				return r.name
			}
		}
	}
	return "other"
}

// Causes of a wait for a P, by the transition that made the goroutine runnable.
const (
	causeYield   = "yielded (runtime.Gosched)"
	causePreempt = "preempted"
	causeSyscall = "back from a syscall without a P"
	causeWoken   = "woken"
	causeOther   = "other"
)

// The thresholds: a wait for a P that long delays what the goroutine serves;
// a running spell that long without any scheduler event is the thread
// descheduled by the kernel (or that much work without a syscall).
const (
	longWait  = 200_000   // ns
	longSpell = 1_000_000 // ns
)

type interval struct {
	from, to int64
	what     string // the cause (waits) or the syscall's function
}

type roleStats struct {
	running []interval // Running
	waits   []interval // Runnable → Running, what = cause
	sys     []interval // Syscall → *, what = the syscall's function
	sysNoP  int        // syscalls that ended Runnable: the P was gone
}

// analyse follows every goroutine through its transitions.
func analyse(p *parsed) (map[string]*roleStats, int64) {
	stats := map[string]*roleStats{}
	role := map[int64]string{}
	since := map[int64]transition{} // the transition into the current state
	for _, tr := range p.tr {
		r, ok := role[tr.g]
		if !ok {
			r = roleOf(p.funcs[tr.g])
			role[tr.g] = r
		}
		st := stats[r]
		if st == nil {
			st = &roleStats{}
			stats[r] = st
		}
		if prev, ok := since[tr.g]; ok && prev.to == tr.from {
			switch tr.from {
			case "Running":
				st.running = append(st.running, interval{prev.t, tr.t, ""})
			case "Runnable":
				st.waits = append(st.waits, interval{prev.t, tr.t, cause(prev)})
			case "Syscall":
				st.sys = append(st.sys, interval{prev.t, tr.t, syscallName(prev.stack)})
				if tr.to == "Runnable" {
					st.sysNoP++
				}
			}
		}
		since[tr.g] = tr
	}
	var span int64
	if n := len(p.tr); n > 0 {
		span = p.tr[n-1].t - p.tr[0].t
	}
	return stats, span
}

func cause(into transition) string {
	switch into.from {
	case "Running":
		if slices.ContainsFunc(into.stack, func(s string) bool { return strings.HasSuffix(s, "runtime.Gosched") }) {
			return causeYield
		}
		return causePreempt
	case "Syscall":
		return causeSyscall
	case "Waiting":
		return causeWoken
	}
	return causeOther
}

// syscallName is the innermost frame of a syscall package on the stack.
func syscallName(stack []string) string {
	for _, fn := range stack {
		if strings.HasPrefix(fn, "syscall.") || strings.HasPrefix(fn, "golang.org/x/sys/unix.") {
			return strings.TrimPrefix(fn, "golang.org/x/sys/")
		}
	}
	return "?"
}

func total(iv []interval) (sum int64) {
	for _, v := range iv {
		sum += v.to - v.from
	}
	return sum
}

func lengths(iv []interval) []int64 {
	d := make([]int64, len(iv))
	for i, v := range iv {
		d[i] = v.to - v.from
	}
	slices.Sort(d)
	return d
}

func quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// report prints, per role: CPU, waits for a P by cause, long running spells,
// syscalls; then what held the Ps while an event loop waited long for one.
func report(w io.Writer, p *parsed) {
	stats, span := analyse(p)
	names := make([]string, 0, len(stats))
	for n := range stats {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return int(total(stats[b].running) - total(stats[a].running)) })
	fmt.Fprintf(w, "trace span %.3f s, %d goroutine transitions\n\n", ms(span)/1e3, len(p.tr))
	fmt.Fprintf(w, "%-12s %9s | %-44s | %-30s | %s\n", "role", "ran ms", "waits for a P: n, total ms, p99 ms, max ms",
		"spells >= 1 ms: n, ms, max ms", "syscalls: n, total ms, >= 1 ms, max ms, ended without a P")
	for _, n := range names {
		st := stats[n]
		if len(st.running)+len(st.waits)+len(st.sys) == 0 {
			continue
		}
		wl, sl := lengths(st.waits), lengths(st.sys)
		var spells []int64
		for _, d := range lengths(st.running) {
			if d >= longSpell {
				spells = append(spells, d)
			}
		}
		var sysLong int
		for _, d := range sl {
			if d >= longSpell {
				sysLong++
			}
		}
		fmt.Fprintf(w, "%-12s %9.1f | %6d %9.1f %8.3f %8.2f%11s | %4d %8.1f %8.2f%8s | %6d %9.1f %5d %8.2f %5d\n", n, ms(total(st.running)),
			len(wl), ms(total(st.waits)), ms(quantile(wl, .99)), ms(quantile(wl, 1)), "",
			len(spells), ms(sum(spells)), ms(quantile(spells, 1)), "",
			len(sl), ms(total(st.sys)), sysLong, ms(quantile(sl, 1)), st.sysNoP)
	}
	fmt.Fprintf(w, "\nwaits for a P by cause: n, total ms, n >= %d µs\n", longWait/1000)
	for _, n := range names {
		by := map[string][]int64{}
		for _, v := range stats[n].waits {
			by[v.what] = append(by[v.what], v.to-v.from)
		}
		for _, c := range []string{causeYield, causePreempt, causeSyscall, causeWoken, causeOther} {
			if d := by[c]; len(d) > 0 {
				fmt.Fprintf(w, "  %-12s %-32s %6d %9.1f %5d\n", n, c, len(d), ms(sum(d)), count(d, longWait))
			}
		}
	}
	loops := stats["event-loop"]
	if loops == nil {
		return
	}
	var long []interval
	for _, v := range loops.waits {
		if v.to-v.from >= longWait {
			long = append(long, v)
		}
	}
	fmt.Fprintf(w, "\nwhile an event loop waited >= %d µs for a P (%d waits, %.1f ms): overlapping ms\n", longWait/1000, len(long), ms(total(long)))
	for _, n := range names {
		run, sys := overlap(stats[n].running, long), overlap(stats[n].sys, long)
		if run+sys > 0 {
			fmt.Fprintf(w, "  %-12s running %8.1f   in a syscall %8.1f\n", n, ms(run), ms(sys))
		}
	}
}

func sum(d []int64) (s int64) {
	for _, v := range d {
		s += v
	}
	return s
}

func count(d []int64, atLeast int64) (n int) {
	for _, v := range d {
		if v >= atLeast {
			n++
		}
	}
	return n
}

// overlap sums the time of a that falls inside any of b (b's intervals
// are one goroutine's waits or several loops'; a's are one role's).
func overlap(a, b []interval) (ns int64) {
	for _, x := range a {
		for _, y := range b {
			if o := min(x.to, y.to) - max(x.from, y.from); o > 0 {
				ns += o
			}
		}
	}
	return ns
}
