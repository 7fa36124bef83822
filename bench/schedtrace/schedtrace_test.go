package main

import (
	"strings"
	"testing"
)

// A loop (G10) yields at 1,000 ns and runs again at 301,000 while the CDR
// writer (G20) runs on its P from 2,000 to 300,000; the loop then blocks in
// epoll_wait and comes back without a P. The writer's stack names it only
// through its own Stack lines (the loop's event that wakes it carries the
// loop's stack, which must not make it a loop).
const sample = `M=1 P=0 G=10 StateTransition Time=0 GoID=10 Runnable->Running Reason=""
Stack=
	github.com/panjf2000/gnet/v2.(*eventloop).orbit @ 0x1
		/x.go:1

M=1 P=0 G=10 StateTransition Time=500 GoID=20 Waiting->Runnable Reason=""
Stack=
	github.com/panjf2000/gnet/v2.(*eventloop).orbit @ 0x1
		/x.go:1

M=1 P=0 G=10 StateTransition Time=1000 GoID=10 Running->Runnable Reason=""
TransitionStack=
	runtime.Gosched @ 0x2
		/proc.go:1
	github.com/panjf2000/gnet/v2.(*eventloop).orbit @ 0x1
		/x.go:1

M=1 P=0 G=-1 StateTransition Time=2000 GoID=20 Runnable->Running Reason=""
M=1 P=0 G=20 StateTransition Time=300000 GoID=20 Running->Waiting Reason=""
Stack=
	github.com/smppd/smppd/cdr.(*Stream).run @ 0x3
		/stream.go:1

M=1 P=0 G=-1 StateTransition Time=301000 GoID=10 Runnable->Running Reason=""
M=1 P=0 G=10 StateTransition Time=302000 GoID=10 Running->Syscall Reason=""
TransitionStack=
	golang.org/x/sys/unix.EpollWait @ 0x4
		/z.go:1
	github.com/panjf2000/gnet/v2.(*eventloop).orbit @ 0x1
		/x.go:1

M=1 P=-1 G=10 StateTransition Time=2302000 GoID=10 Syscall->Runnable Reason=""
M=1 P=0 G=-1 StateTransition Time=2303000 GoID=10 Runnable->Running Reason=""
`

func TestAnalyse(t *testing.T) {
	p, err := parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.tr) != 9 {
		t.Fatalf("parsed %d transitions, want 9", len(p.tr))
	}
	if r := roleOf(p.funcs[20]); r != "cdr-writer" {
		t.Errorf("G20's role %q, want cdr-writer (the loop's stack on its wake-up is not its own)", r)
	}
	stats, span := analyse(p)
	if span != 2303000 {
		t.Errorf("span %d, want 2303000", span)
	}
	l := stats["event-loop"]
	if l == nil || len(l.waits) != 2 {
		t.Fatalf("loop stats %+v, want two waits", l)
	}
	if w := l.waits[0]; w.what != causeYield || w.to-w.from != 300000 {
		t.Errorf("first wait %+v, want 300000 ns after a yield", w)
	}
	if w := l.waits[1]; w.what != causeSyscall {
		t.Errorf("second wait cause %q, want %q", w.what, causeSyscall)
	}
	if len(l.sys) != 1 || l.sys[0].what != "unix.EpollWait" || l.sysNoP != 1 {
		t.Errorf("loop syscalls %+v (without a P %d), want one unix.EpollWait ended without a P", l.sys, l.sysNoP)
	}
	if got := total(stats["cdr-writer"].running); got != 298000 {
		t.Errorf("writer ran %d ns, want 298000", got)
	}
	var out strings.Builder
	report(&out, p)
	if !strings.Contains(out.String(), "cdr-writer   running      0.3") {
		t.Errorf("report does not show the writer running during the loop's long wait:\n%s", out.String())
	}
}
