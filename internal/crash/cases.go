package crash

import (
	"fmt"
	"time"

	"github.com/smppd/smppd/codec"
)

// Load phases: each run before a kill, and the last one before the checks.
const (
	runMin  = 100 * time.Millisecond
	runMax  = 3 * time.Second
	tailRun = 1500 * time.Millisecond
)

// simKill: MT with receipts through the simulator, killed Kills times.
func simKill(e *env) {
	if !e.boot(setup{}) {
		return
	}
	rx := startReceivers(e.ctx, e.srv.smppAddr, e.o.Receivers, e.b)
	ld := startLoad(e.ctx, e.loadOpts(), e.b)
	ok := true
	for i := 0; ok && i < e.o.Kills; i++ {
		ok = e.killRestart(i, runMin, runMax)
	}
	if ok {
		sleepCtx(e.ctx, tailRun)
	}
	ld.stop()
	if ok {
		e.verifyMT(e.o.Receivers, nil)
	}
	rx.stop()
	e.r.figure("binds", "%d transmitter, %d receiver", ld.binds.Load(), rx.binds.Load())
	e.logErrors()
}

// Held MO phase of upstreamKill.
const (
	moCount = 300
	moRate  = 300 // per second
	moWait  = 20 * time.Second
)

// upstreamKill: MT with receipts through an smpp connector to the stub,
// killed Kills times (the stub keeps its receipts while smppd is down and
// sends them after the restart); then MO held for an unbound receiver: the
// stub sends moCount MO with no receiver bound, smppd is killed during
// that and again once every MO was acknowledged, and every MO must reach
// the receiver that binds afterwards.
func upstreamKill(e *env) {
	up, err := startStub(e.o.Seed)
	if err != nil {
		e.r.Err = err
		return
	}
	defer up.close()
	if !e.boot(setup{upstream: up.port()}) {
		return
	}
	rx := startReceivers(e.ctx, e.srv.smppAddr, e.o.Receivers, e.b)
	ld := startLoad(e.ctx, e.loadOpts(), e.b)
	ok := true
	for i := 0; ok && i < e.o.Kills; i++ {
		ok = e.killRestart(i, runMin, runMax)
	}
	if ok {
		sleepCtx(e.ctx, tailRun)
	}
	ld.stop()
	if ok {
		e.verifyMT(e.o.Receivers, func() bool { return up.stats().queued == 0 })
		st := up.stats()
		e.r.figure("upstream stub", "%d submit_sm (%d accepted, %d refused ESME_RINVDSTADR), %d receipts acknowledged by smppd, %d deliver_sm answered other than ESME_ROK, %d still queued",
			st.submits, st.accepted, st.refused, st.receiptsAcked, st.nacked, st.queued)
		if e.o.Kills > 0 {
			e.r.check("the stub had receipts due while smppd was down (the case covers them)", st.dueWhileDown > 0,
				"%d receipts fell due with no bind up", st.dueWhileDown)
		}
		ids, dests := e.b.multis()
		var unsent []string
		for i, id := range ids {
			for _, d := range dests[i] {
				if !up.acceptedDest(d) {
					unsent = append(unsent, id+" to "+d)
				}
			}
		}
		e.r.check("every destination of an acknowledged submit_multi was accepted upstream (the stub throttles each second one once)",
			len(ids) > 0 && len(unsent) == 0, "%d submit_multi acknowledged, %d destinations never accepted%s", len(ids), len(unsent), sample(unsent))
	}
	rx.stop()
	e.r.figure("binds", "%d transmitter, %d receiver (MT phase)", ld.binds.Load(), rx.binds.Load())
	if ok {
		e.heldMO(up)
	}
	e.logErrors()
}

func (e *env) heldMO(up *stub) {
	r := e.r
	killsBefore := e.kills
	texts := make([]string, moCount)
	injected := make(chan struct{})
	go func() {
		defer close(injected)
		for i := range texts {
			texts[i] = fmt.Sprintf("crash mo %04d", i)
			up.injectMO(texts[i])
			sleepCtx(e.ctx, time.Second/moRate)
		}
	}()
	if e.o.Kills > 0 {
		// Killed while the MO arrive: those in flight are sent again.
		if !e.killRestart(e.kills, 200*time.Millisecond, time.Second) {
			return
		}
	}
	<-injected
	all := e.waitFor(moWait, func() bool { return up.stats().mosAcked == moCount })
	st := up.stats()
	r.check("smppd acknowledged every MO the stub sent (it retries until ESME_ROK)", all, "%d of %d", st.mosAcked, moCount)
	if e.o.Kills > 0 {
		// Every MO is held now, with no receiver bound.
		if !e.killRestart(e.kills, 100*time.Millisecond, 300*time.Millisecond) {
			return
		}
	}
	rx := startReceivers(e.ctx, e.srv.smppAddr, e.o.Receivers, e.b)
	defer rx.stop()
	e.waitFor(moWait, func() bool {
		for _, t := range texts {
			if up.moWasAcked(t) && e.b.moCount(t) == 0 {
				return false
			}
		}
		return true
	})
	var missing []string
	dups, acked := 0, 0
	for _, t := range texts {
		n := e.b.moCount(t)
		if up.moWasAcked(t) {
			acked++
			if n == 0 {
				missing = append(missing, t)
			}
		}
		dups += max(n-1, 0)
	}
	st = up.stats()
	r.figure("held MO", "%d sent by the stub, %d acknowledged, %d kills in this phase, %d MO deliver_sm cut off by kills and sent again",
		moCount, acked, e.kills-killsBefore, st.brokenMO)
	r.check("every acknowledged MO reached the receiver that bound after the restart", len(missing) == 0,
		"%d of %d missing%s", len(missing), acked, sample(missing))
	r.check("duplicate MO <= MO deliver_sm the stub sent again after a kill", dups <= st.brokenMO,
		"%d duplicates, %d sent again", dups, st.brokenMO)
}

// Disk-full case.
const (
	tmpfsSize = 64 << 20
	fullWait  = 30 * time.Second // for the first ESME_RMSGQFUL once the disk is full
	readyWait = 10 * time.Second
	backWait  = 30 * time.Second // for the first ESME_ROK once space returns
	fullHold  = time.Second      // the disk stays full this long after the first refusal
)

// diskFull: the store's file system fills up under load (a ballast file
// on a private tmpfs): new submits must get ESME_RMSGQFUL and /v1/ready
// must say not ready; once the ballast is gone smppd must take submits
// again by itself, and every message it acknowledged, before, during or
// after, must reach its final state.
func diskFull(e *env) {
	r := e.r
	fs, err := mountTmpfs(e.dir+"/tmpfs", tmpfsSize, caseCap)
	if err != nil {
		r.Skipped = err.Error()
		return
	}
	defer fs.close()
	if !e.boot(setup{storeDir: fs.path + "/" + storeSubdir}) {
		return
	}
	rx := startReceivers(e.ctx, e.srv.smppAddr, e.o.Receivers, e.b)
	defer rx.stop()
	ld := startLoad(e.ctx, e.loadOpts(), e.b)
	sleepCtx(e.ctx, time.Second)

	full0 := e.b.refusals(codec.StatusMsgQFul)
	acked0 := e.b.ackCount()
	n, err := fs.fill()
	if err != nil {
		ld.stop()
		r.Err = fmt.Errorf("filling the tmpfs: %w", err)
		return
	}
	t0 := time.Now()
	refused := e.waitFor(fullWait, func() bool { return e.b.refusals(codec.StatusMsgQFul) > full0 })
	r.figure("disk full", "ballast %d MiB of %d MiB; first ESME_RMSGQFUL %s later", n>>20, tmpfsSize>>20, ms(time.Since(t0)))
	r.check("new submits get ESME_RMSGQFUL once the disk is full", refused, "%d ESME_RMSGQFUL within %s",
		e.b.refusals(codec.StatusMsgQFul)-full0, fullWait)
	var code int
	var body string
	notReady := e.waitFor(readyWait, func() bool {
		code, body, err = ready(e.srv.adminURL)
		return err == nil && code != 200
	})
	r.check("GET /v1/ready reports the full disk", notReady, "%d %s", code, body)
	sleepCtx(e.ctx, fullHold)
	ackedFull := e.b.ackCount() - acked0

	if err := fs.free(); err != nil {
		ld.stop()
		r.Err = fmt.Errorf("removing the ballast: %w", err)
		return
	}
	t1 := time.Now()
	back := e.waitFor(backWait, func() bool { return e.b.lastAck().After(t1) })
	r.check("submits are acknowledged again once space returns", back, "first ESME_ROK %s after the ballast went", ms(time.Since(t1)))
	isReady := e.waitFor(readyWait, func() bool {
		code, body, err = ready(e.srv.adminURL)
		return err == nil && code == 200
	})
	r.check("GET /v1/ready is ready again", isReady, "%d %s", code, body)
	r.figure("acknowledged while full", "%d (from the ballast until it went; each must still get its receipt)", ackedFull)
	sleepCtx(e.ctx, time.Second)
	ld.stop()
	e.verifyMT(e.o.Receivers, nil)
	e.logErrors()
}

// logErrors reports smppd's error lines and its start-up recovery lines.
func (e *env) logErrors() {
	if e.srv == nil {
		return
	}
	for i, l := range e.srv.recoveryLines() {
		e.r.figure(fmt.Sprintf("recovery log %d", i+1), "%s", l)
	}
	e.r.figure("smppd error log lines", "%d", e.srv.errorLines())
}
