package bench

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/codec"
)

// runState is what the sessions of one run share (read-only after start,
// except the atomics).
type runState struct {
	cfg  *Config
	plan *templates
	rc   *receipts
	base time.Time // the run clock's zero: all sessions bound
	stop atomic.Bool
	live []live
}

// Run binds cfg.Sessions sessions, sends traffic as cfg says and returns
// the result once every session has finished (or ctx was cancelled: then
// sending stops, outstanding responses get DrainWait, and the partial
// result is returned). It fails only when cfg is invalid or no session
// could bind; failures of single sessions are listed in the result.
// cfg is read, not kept.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	mix, _ := ParseMix(cfg.Mix)
	plan, err := buildTemplates(&cfg, mix)
	if err != nil {
		return nil, err
	}
	r := &runState{cfg: &cfg, plan: plan, live: make([]live, cfg.Sessions)}
	if cfg.Receipts {
		r.rc = newReceipts()
	}
	sessions := make([]*session, cfg.Sessions)
	errs := make([]error, cfg.Sessions)
	var wg sync.WaitGroup
	for i := range sessions {
		sessions[i] = newSession(i, r)
		wg.Add(1)
		go func(s *session) {
			defer wg.Done()
			errs[s.id] = s.connect()
		}(sessions[i])
	}
	wg.Wait()
	bound := 0
	for i, s := range sessions {
		if errs[i] == nil {
			bound++
			continue
		}
		if s.conn != nil {
			_ = s.conn.Close()
			s.conn = nil
		}
	}
	if bound == 0 {
		return nil, fmt.Errorf("bench: no session bound: %w", errs[0])
	}

	quotas := splitCount(cfg.Count, errs)
	r.base = time.Now()
	for i, s := range sessions {
		if errs[i] != nil {
			continue
		}
		s.plan = plan
		s.measureFrom = int64(cfg.Warmup)
		if cfg.Duration > 0 {
			s.sendUntil = int64(cfg.Warmup + cfg.Duration)
		}
		if cfg.Count > 0 {
			s.quota = quotas[i]
		}
		if cfg.Rate > 0 {
			s.interval = int64(float64(bound) * 1e9 / cfg.Rate)
			s.next = s.interval * int64(i) / int64(len(sessions)) // stagger the sessions
		}
		r.live[i].sending.Store(true)
	}

	active := make([]*session, 0, bound)
	for i, s := range sessions {
		if errs[i] == nil {
			active = append(active, s)
		}
	}
	done := make(chan struct{})
	go r.watch(ctx, done, active)
	for i, s := range sessions {
		if errs[i] != nil {
			continue
		}
		wg.Add(1)
		go func(s *session) {
			defer wg.Done()
			errs[s.id] = s.loop()
			s.pub.sending.Store(false)
			s.publish()
			s.unbind()
		}(s)
	}
	wg.Wait()
	close(done)
	return r.result(sessions, errs, bound), nil
}

// splitCount shares count over the bound sessions, the remainder to the
// first ones.
func splitCount(count int64, errs []error) []int64 {
	q := make([]int64, len(errs))
	n := int64(0)
	for _, e := range errs {
		if e == nil {
			n++
		}
	}
	if n == 0 {
		return q
	}
	k := int64(0)
	for i, e := range errs {
		if e != nil {
			continue
		}
		q[i] = count / n
		if k < count%n {
			q[i]++
		}
		k++
	}
	return q
}

// watch publishes progress and, when ctx ends, stops sending and wakes
// every blocked read (SetReadDeadline is safe from another goroutine).
func (r *runState) watch(ctx context.Context, done <-chan struct{}, active []*session) {
	var tick <-chan time.Time
	if r.cfg.Progress != nil {
		t := time.NewTicker(r.cfg.ProgressEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-done:
			return
		case <-tick:
			r.cfg.Progress(r.progress(len(active)))
		case <-ctx.Done():
			r.stop.Store(true)
			for _, s := range active {
				_ = s.conn.SetReadDeadline(time.Now())
			}
			ctx = context.Background() // fire once; keep reporting progress
		}
	}
}

// progress sums what the sessions published.
func (r *runState) progress(bound int) Progress {
	el := time.Since(r.base)
	p := Progress{Elapsed: el, Warmup: el < r.cfg.Warmup, Bound: bound}
	for i := range r.live {
		l := &r.live[i]
		p.Submitted += l.submitted.Load()
		p.Responses += l.responses.Load()
		p.Errors += l.errors.Load()
		p.Receipts += l.receipts.Load()
	}
	return p
}

// result merges the sessions (all finished).
func (r *runState) result(sessions []*session, errs []error, bound int) *Result {
	cfg := r.cfg
	mix, _ := ParseMix(cfg.Mix)
	res := &Result{
		Addr: cfg.Addr, Bind: cfg.Bind.String(), Sessions: cfg.Sessions, Window: cfg.Window,
		Mix: mix.String(), Chars: cfg.Chars, Receipts: cfg.Receipts, Rate: cfg.Rate, Bound: bound,
	}
	respH := newLatencyHist()
	dlrH := newLatencyHist()
	statuses := map[codec.Status]uint64{}
	var last, lastR, dlrWant int64
	for i, s := range sessions {
		if errs[i] != nil {
			msg := errs[i].Error()
			if errors.Is(errs[i], errUnbound) {
				msg = "unbound by the SMSC"
			}
			res.SessionErrors = append(res.SessionErrors, fmt.Sprintf("session %d: %s", i, msg))
		}
		if s.conn == nil && errs[i] != nil {
			continue
		}
		st := &s.st
		res.Submitted += st.submitted
		res.Responses += st.responses
		res.OK += st.ok
		res.Throttled += st.throttled
		res.Errors += st.errors
		res.GenericNacks += st.nacks
		res.DeliverSM += st.deliver
		res.ReceiptsOK += st.receipts
		res.EnquireLinks += st.enquire
		dlrWant += int64(st.dlrWant)
		for k, v := range s.stat {
			statuses[k] += v
		}
		respH.merge(s.respH)
		if s.rc != nil {
			dlrH.merge(s.dlrH)
		}
		last = max(last, s.last)
		lastR = max(lastR, s.lastR)
	}
	if res.Submitted > res.Responses {
		res.Unanswered = res.Submitted - res.Responses
	}
	if r.rc != nil {
		_, orphans := r.rc.counts()
		res.ReceiptsOther = orphans
		res.ReceiptsEarly = r.rc.early.Load()
		if w := uint64(dlrWant); w > res.ReceiptsOK {
			res.ReceiptsLost = w - res.ReceiptsOK
		}
	}
	if len(statuses) > 0 {
		res.Statuses = make(map[string]uint64, len(statuses))
		keys := make([]codec.Status, 0, len(statuses))
		for k := range statuses {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
		for _, k := range keys {
			res.Statuses[k.String()] = statuses[k]
		}
	}
	if el := time.Duration(last) - cfg.Warmup; el > 0 {
		res.Elapsed = el.Seconds()
		res.ReceiptRate = float64(res.ReceiptsOK) / res.Elapsed
	}
	if el := time.Duration(lastR) - cfg.Warmup; el > 0 {
		res.RespElapsed = el.Seconds()
		res.SubmitRate = float64(res.OK) / res.RespElapsed
	}
	res.SubmitResp = respH.summary()
	res.SubmitReceipt = dlrH.summary()
	return res
}
