package crash

import (
	"fmt"
	"strings"
	"time"

	"github.com/smppd/smppd/codec"
)

// receiptWait bounds the wait, after the load, for the last receipts.
const receiptWait = 30 * time.Second

// verifyMT waits for the receipts of every acknowledged message, then
// checks the book against smppd: receipts, query_sm and the balance.
// settled, when set, must also hold before the checks (the stub's queue
// is empty).
func (e *env) verifyMT(receiverBinds int, settled func() bool) {
	r := e.r
	t0 := time.Now()
	done := e.waitFor(receiptWait, func() bool { return e.b.pending() == 0 && (settled == nil || settled()) })
	r.figure("receipt wait after the load", "%s%s", ms(time.Since(t0)), map[bool]string{false: " (gave up)", true: ""}[done])
	t := e.b.tally()
	r.figure("submits", "%d sent, %d acknowledged (ESME_ROK), %d refused (%s), %d cut off by kills (fate unknown)",
		t.submits, t.acked, t.deniedN, t.denied, t.lost)
	r.figure("receipts", "%d received: %d ids final (%s), %d duplicates, %d without an id, %d for ids no ESME_ROK named",
		t.receipts, t.finalIDs, statesText(t.states), t.dups, t.noID, t.unasked)
	// A figure, not a check: a receipt the upstream sent again while its
	// first was held unrecorded at a kill may carry another done date.
	r.figure("duplicate final receipts not octet for octet the first", "%d ids%s", len(t.differ), sample(t.differ))

	r.check("the load ran: messages were acknowledged", t.acked > 0, "%d acknowledged", t.acked)
	r.check("message ids are unique across restarts", t.reuse == 0, "%d ids acknowledged for two submits", t.reuse)
	r.check("every acknowledged message's final receipt reached the ESME", len(t.missing) == 0,
		"%d of %d without one%s", len(t.missing), t.acked, sample(t.missing))
	allow := e.kills * e.cfg.deliverWindow * receiverBinds
	r.check(fmt.Sprintf("duplicate receipts <= kills x deliver_window x receiver binds (%d x %d x %d)", e.kills, e.cfg.deliverWindow, receiverBinds),
		t.dups <= allow, "%d duplicates, %d allowed", t.dups, allow)
	r.check("receipts for ids no ESME_ROK named <= submits a kill cut off", t.unasked <= t.lost,
		"%d such ids, %d submits cut off", t.unasked, t.lost)

	ids := e.b.ids()
	got, err := querySweep(e.ctx, e.srv.smppAddr, ids)
	if err != nil {
		r.check("query_sm finds every acknowledged id", false, "%v", err)
	}
	var notFound, notFinal, disagree []string
	e.b.mu.Lock()
	for _, id := range ids {
		q, ok := got[id]
		switch {
		case !ok:
			notFound = append(notFound, id+" unanswered")
		case q.status != codec.StatusOK:
			notFound = append(notFound, id+" "+q.status.String())
		case !final(q.state):
			notFinal = append(notFinal, fmt.Sprintf("%s %d", id, q.state))
		default:
			if rc := e.b.rcpt[id]; rc != nil && rc.finals > 0 && rc.state != q.state {
				disagree = append(disagree, fmt.Sprintf("%s receipt %d query %d", id, rc.state, q.state))
			}
		}
	}
	e.b.mu.Unlock()
	if err == nil {
		r.check("query_sm finds every acknowledged id", len(notFound) == 0, "%d of %d not found%s", len(notFound), len(ids), sample(notFound))
	}
	r.check("every acknowledged message has exactly one final state", len(t.conflicts) == 0 && len(notFinal) == 0 && len(disagree) == 0,
		"%d with conflicting final receipts%s; query_sm: %d not final%s, %d disagreeing with the receipt%s",
		len(t.conflicts), sample(t.conflicts), len(notFinal), sample(notFinal), len(disagree), sample(disagree))

	bal, text, err := balance(e.srv.adminURL)
	want := initialUnits - int64(t.charged-t.refunded)*rateMicros
	if err != nil {
		r.check("balance equals the ledger's sum", false, "%v", err)
		return
	}
	// A submit_multi a kill cut off that smppd took is counted once by its
	// receipt (t.charged), though it charged each of its two destinations.
	slack := int64(min(t.lostMulti, t.unasked)) * rateMicros
	r.check("balance equals the ledger's sum", bal <= want && bal >= want-slack,
		"%s: initial %s - %d charged x %s + %d refunded x %s = %s (off by %s; %d submit_multi cut off by kills may each charge one more)", text, units(initialUnits), t.charged,
		units(rateMicros), t.refunded, units(rateMicros), units(want), units(bal-want), t.lostMulti)
}

// statesText writes counts by final state.
func statesText(m map[codec.MessageState]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for st := codec.MessageState(1); st <= codec.MessageStateRejected; st++ {
		if n := m[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", stateName(st), n))
		}
	}
	return strings.Join(parts, ", ")
}

func stateName(s codec.MessageState) string {
	names := [...]string{"", "ENROUTE", "DELIVERED", "EXPIRED", "DELETED", "UNDELIVERABLE", "ACCEPTED", "UNKNOWN", "REJECTED"}
	if int(s) < len(names) && s > 0 {
		return names[s]
	}
	return fmt.Sprintf("state %d", s)
}

// sample lists the first few items after a colon.
func sample(items []string) string {
	if len(items) == 0 {
		return ""
	}
	n := min(len(items), 5)
	more := ""
	if len(items) > n {
		more = ", ..."
	}
	return ": " + strings.Join(items[:n], ", ") + more
}
