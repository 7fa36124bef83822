package crash

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

// book is what the ESMEs saw: every submit answered ESME_ROK and its id,
// every refusal, the submits whose answer a kill cut off, every receipt
// and every MO. The checks at the end of a case read it.
type book struct {
	mu     sync.Mutex
	next   int                    // submits numbered from 1
	acks   map[string]ack         // our message_id -> the submit acknowledged with it
	reuse  int                    // an id acknowledged for a second submit
	deny   map[codec.Status]int   // refused submits by status
	lost   int                    // submits in flight when their connection broke: fate unknown
	lostM  int                    // of those, submit_multi
	rcpt   map[string]*idReceipts // by our message_id, upper case
	nrcpt  int                    // receipts received, duplicates included
	noID   int                    // receipts without a usable id
	mo     map[string]int         // MO text -> deliveries to the ESME
	lastOK time.Time              // the last ESME_ROK
}

type ack struct {
	n    int
	dest string
	// multi: a submit_multi's destinations acknowledged (not in its
	// unsuccess_sme); nil for a submit_sm.
	multi []string
}

// idReceipts are the receipts of one id.
type idReceipts struct {
	finals   int
	state    codec.MessageState // the first final state
	conflict bool               // a later final receipt named another state
	body     string             // the first final receipt's deliver_sm body
	differ   bool               // a later final receipt's body is not the first's octet for octet
	interim  int                // non-final notifications (ENROUTE, ACCEPTED)
}

func newBook() *book {
	return &book{acks: make(map[string]ack), deny: make(map[codec.Status]int), rcpt: make(map[string]*idReceipts), mo: make(map[string]int)}
}

// destOf is the destination of submit n: its last digit is n's, so a stub
// can refuse a fixed share of them.
func destOf(n int) string { return fmt.Sprintf("4916%07d", n%10_000_000) }

// refusedDest is what the upstream stub refuses permanently: 1 in 10.
func refusedDest(dest []byte) bool { return len(dest) > 0 && dest[len(dest)-1] == '7' }

// multiOf reports whether submit n goes as a submit_multi, and its second
// destination: 1 in 8, never one the stub refuses (a multi's one final
// state and its charge then stay those of every destination).
func multiOf(n int) (string, bool) {
	if n%8 != 3 || n%10 == 7 {
		return "", false
	}
	return fmt.Sprintf("4917%07d", n%10_000_000), true
}

// multiSecond reports whether dest is a submit_multi's second destination.
func multiSecond(dest []byte) bool { return len(dest) > 4 && string(dest[:4]) == "4917" }

func (b *book) number() (int, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.next++
	return b.next, destOf(b.next)
}

func (b *book) acked(id []byte, n int) { b.ackedMulti(id, n, nil) }

// ackedMulti books an ESME_ROK; multi are a submit_multi's destinations
// not in its unsuccess_sme.
func (b *book) ackedMulti(id []byte, n int, multi []string) {
	key := strings.ToUpper(string(id))
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.acks[key]; dup || key == "" {
		b.reuse++
		return
	}
	b.acks[key] = ack{n: n, dest: destOf(n), multi: multi}
	b.lastOK = time.Now()
}

// multis returns the destinations of every acknowledged submit_multi.
func (b *book) multis() (ids []string, dests [][]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, a := range b.acks {
		if a.multi != nil {
			ids, dests = append(ids, id), append(dests, a.multi)
		}
	}
	return ids, dests
}

func (b *book) refused(st codec.Status) {
	b.mu.Lock()
	b.deny[st]++
	b.mu.Unlock()
}

func (b *book) cutOff(n, multis int) {
	b.mu.Lock()
	b.lost += n
	b.lostM += multis
	b.mu.Unlock()
}

// final reports whether a message_state ends the message (SMPP 3.4 §5.2.28):
// every state but ENROUTE, ACCEPTED and the unset 0.
func final(s codec.MessageState) bool {
	return s != 0 && s != codec.MessageStateEnroute && s != codec.MessageStateAccepted
}

// receipt books a receipt for id in state st; body is its deliver_sm
// body (nil: not compared).
func (b *book) receipt(id []byte, st codec.MessageState, body []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nrcpt++
	if len(id) == 0 {
		b.noID++
		return
	}
	key := strings.ToUpper(string(id))
	r := b.rcpt[key]
	if r == nil {
		r = &idReceipts{}
		b.rcpt[key] = r
	}
	switch {
	case !final(st):
		r.interim++
	case r.finals == 0:
		r.finals, r.state, r.body = 1, st, string(body)
	default:
		r.finals++
		r.conflict = r.conflict || st != r.state
		r.differ = r.differ || string(body) != r.body
	}
}

func (b *book) gotMO(text string) {
	b.mu.Lock()
	b.mo[text]++
	b.mu.Unlock()
}

// pending returns how many acknowledged ids have no final receipt yet.
func (b *book) pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for id := range b.acks {
		if r := b.rcpt[id]; r == nil || r.finals == 0 {
			n++
		}
	}
	return n
}

func (b *book) ackCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.acks)
}

func (b *book) refusals(st codec.Status) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.deny[st]
}

func (b *book) lastAck() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastOK
}

// ids returns the acknowledged ids, sorted.
func (b *book) ids() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]string, 0, len(b.acks))
	for id := range b.acks {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// moCount returns how many times text reached the ESME.
func (b *book) moCount(text string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mo[text]
}

// tally is the book's summary for the checks.
type tally struct {
	submits, acked, lost, reuse int
	lostMulti                   int    // submit_multi cut off: each may have charged one destination more than the book counts
	denied                      string // "ESME_RMSGQFUL 12, ..." or "none"
	deniedN, finalIDs           int
	receipts, noID              int
	missing                     []string // acknowledged, no final receipt
	dups                        int      // final receipts beyond the first, over every id
	conflicts                   []string // ids whose final receipts disagree
	differ                      []string // ids whose duplicate final receipts are not the first's octet for octet
	unasked                     int      // ids with a final receipt that no ESME_ROK named
	charged, refunded           int      // ids smppd took a charge for, and of those the failed ones
	states                      map[codec.MessageState]int
}

func (b *book) tally() tally {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := tally{submits: b.next, acked: len(b.acks), lost: b.lost, lostMulti: b.lostM, reuse: b.reuse, receipts: b.nrcpt, noID: b.noID,
		states: make(map[codec.MessageState]int)}
	var ds []string
	for st, n := range b.deny {
		ds = append(ds, fmt.Sprintf("%v %d", st, n))
		t.deniedN += n
	}
	sort.Strings(ds)
	t.denied = "none"
	if len(ds) > 0 {
		t.denied = strings.Join(ds, ", ")
	}
	for id := range b.acks {
		if r := b.rcpt[id]; r == nil || r.finals == 0 {
			t.missing = append(t.missing, id)
		}
	}
	sort.Strings(t.missing)
	for _, a := range b.acks {
		t.charged += max(len(a.multi), 1) // a submit_multi pays per destination
	}
	for id, r := range b.rcpt {
		if r.finals == 0 {
			continue
		}
		t.finalIDs++
		t.states[r.state]++
		t.dups += r.finals - 1
		if r.conflict {
			t.conflicts = append(t.conflicts, id)
		}
		if r.differ {
			t.differ = append(t.differ, id)
		}
		if _, ok := b.acks[id]; !ok {
			t.unasked++
			t.charged++
		}
		if r.state != codec.MessageStateDelivered {
			t.refunded++
		}
	}
	sort.Strings(t.conflicts)
	sort.Strings(t.differ)
	return t
}
