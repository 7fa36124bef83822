package wal

import "time"

// lingerMax bounds how long the writer waits after a commit for the
// entries its answers bring back (lingerAfter); a variable for tests.
var lingerMax = 2 * time.Millisecond

// lingerReqsMax is the most requests a commit may have answered for the
// writer to linger after it: past it the clients have more than a few
// requests in flight, and their next ones come spread over the next fsync
// (at 4 sessions x window 100 the groups hold ~170), which a linger only
// delays.
const lingerReqsMax = 64

// lingerSkipMax is the most commits without a linger after lingers that
// fell short.
const lingerSkipMax = 64

// lingerAfter, with SyncAlways, is called as g is committed, before its
// answers go out: the writer then waits until the active group holds the
// requests (non-urgent Options.LingerKind entries) it had plus as many as
// g had, or for the mean fsync (at most lingerMax), whichever comes first.
//
// Why: a request that arrives while an fsync runs waits for it and then
// for its own; the clients a commit answers send their next requests a
// round trip later, when the next fsync has begun. So at a small window
// the sessions split into two groups that take turns, two fsyncs a
// request. Waiting for the answered clients puts them back into one
// group: one fsync plus one round trip a request, fewer than two fsyncs
// while the round trip is shorter than an fsync. A linger that runs out
// costs at most one fsync's time, what arriving during an fsync costs;
// one request bringing several records (submit_multi) makes it run out.
// A Sync, a lazy entry waited on and Close end it at once. At a larger
// window the answered clients' requests come back spread over the next
// fsync, so lingers fall short: each one that does skips the next 1, 2,
// 4 … up to lingerSkipMax commits, and one that fills starts again.
func (l *Log) lingerAfter(g *group) {
	w := &l.w
	if l.o.Sync != SyncAlways || l.o.LingerKind == 0 {
		return
	}
	n := g.reqs
	wait := min(lingerMax, w.fsyncAvg)
	if n == 0 || n > lingerReqsMax || wait <= 0 {
		return
	}
	if w.lingerSkip > 0 {
		w.lingerSkip--
		return
	}
	l.mu.Lock()
	a := l.active
	want := a.reqs + n
	l.lingerWant, l.lingerUntil = want, time.Now().Add(wait)
	l.mu.Unlock()
	w.linger.Reset(wait)
}

// lingerEnded records how a linger ended as its group is taken: with the
// requests it waited for (filled) or short of them. Lock should be held;
// the writer's goroutine.
func (l *Log) lingerEnded(filled bool) {
	w := &l.w
	l.lingerWant = 0
	w.linger.Stop() // no wake-up for nothing: at 1 x 1 one a request
	if filled {
		l.lingerFilled++
		w.lingerBack = 0
		return
	}
	l.lingerCut++
	w.lingerBack = min(max(1, 2*w.lingerBack), lingerSkipMax)
	w.lingerSkip = w.lingerBack
}
