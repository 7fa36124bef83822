package flow

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/policy"
	"github.com/smppd/smppd/routing"
)

func TestRefusalTableRows(t *testing.T) {
	seen := map[string]bool{}
	for r := range numRefusals {
		row := refusalTable[r]
		if row.label == "" || row.desc == "" || len(row.status) == 0 || seen[row.label] {
			t.Fatalf("refusal %d: incomplete or duplicate row %+v", r, row)
		}
		seen[row.label] = true
		if r.status() != row.status[0] || r.String() != row.label || r.Description() != row.desc {
			t.Fatalf("refusal %d: accessors disagree with the row", r)
		}
	}
	if refuseWait.status() != codec.StatusSysErr || refuseWait.answers(false) != nil || refuseWait.Description() != "" {
		t.Fatal("refuseWait has a row")
	}
	if got := RefusalReasons(); !strings.Contains(got, "balance (ESME_RSUBMITFAIL; jasmin_compat_status: ESME_RSYSERR)") ||
		!strings.HasPrefix(got, "receipts_not_allowed (ESME_RINVREGDLVFLG), ") {
		t.Fatalf("reasons %q", got)
	}
}

// Admission's own status table (accounts does not import flow) must answer
// only what the hub's row for the mapped refusal lists, in both modes, and
// every status a row lists must be one some admission refusal answers.
func TestRefusalTableMatchesAdmission(t *testing.T) {
	for _, jasmin := range []bool{false, true} {
		a := &accounts.Admission{JasminCompat: jasmin}
		produced := map[Refusal][]codec.Status{}
		for why := accounts.RefuseThrottled; why <= accounts.RefuseInternal; why++ {
			r, st := refusalOf(why), codec.Status(a.Status(why))
			if !slices.Contains(r.answers(jasmin), st) {
				t.Fatalf("jasmin=%v: admission %v answers %v, not in %v's row %v", jasmin, why, st, r, r.answers(jasmin))
			}
			produced[r] = append(produced[r], st)
		}
		for _, r := range []Refusal{RefuseThrottled, RefuseBalance, RefusePriority, RefuseLimits} {
			for _, st := range r.answers(jasmin) {
				if !slices.Contains(produced[r], st) {
					t.Fatalf("jasmin=%v: %v's row lists %v, which admission never answers", jasmin, r, st)
				}
			}
		}
	}
}

// refusalLog reads the hub's debug "MT refused" lines: every counted
// refusal passes through Hub.refuse, which logs its reason and status.
type refusalLog struct {
	buf  bytes.Buffer
	read int
}

type refusalLine struct {
	Reason, Status string
}

// next returns the refusal lines logged since the last call.
func (l *refusalLog) next(t *testing.T) []refusalLine {
	t.Helper()
	var out []refusalLine
	for _, line := range bytes.Split(l.buf.Bytes()[l.read:], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var e struct {
			Message, Reason, Status string
		}
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if e.Message == "MT refused" {
			out = append(out, refusalLine{e.Reason, e.Status})
		}
	}
	l.read = l.buf.Len()
	return out
}

func refusalNamed(label string) (Refusal, bool) {
	for r := range numRefusals {
		if refusalTable[r].label == label {
			return r, true
		}
	}
	return 0, false
}

// Every call site that refuses, driven through the hub in both modes,
// answers only a status its refusal's row lists, and each refusal is
// reached at least once.
func TestRefusalCallSitesAnswerTheTable(t *testing.T) {
	for _, jasmin := range []bool{false, true} {
		log := &refusalLog{}
		pol := new(policy.Holder)
		th := newHub(t, hubSpec{logWriter: &log.buf, routes: routing.Config{
			MT: []routing.MTRouteConfig{{Name: "de", Kind: "static", Connectors: []string{"a"}, Rate: 1,
				FilterConfig: routing.FilterConfig{DestPrefixes: []string{"49"}}}},
		}, mod: func(o *Options) {
			o.Admission, o.Policy = &accounts.Admission{JasminCompat: jasmin}, &policy.Hook{Holder: pol}
		}})
		seen := map[Refusal]map[codec.Status]bool{}
		// check runs one request and holds its answer to the table.
		check := func(name string, want Refusal, do func() codec.Status) {
			t.Helper()
			st := do()
			lines := log.next(t)
			if len(lines) != 1 {
				t.Fatalf("jasmin=%v %s: %d refusals logged (%v), want 1", jasmin, name, len(lines), lines)
			}
			r, ok := refusalNamed(lines[0].Reason)
			if !ok || r != want || lines[0].Status != st.String() {
				t.Fatalf("jasmin=%v %s: answered %v, logged %+v; want reason %v", jasmin, name, st, lines[0], want)
			}
			if !slices.Contains(r.answers(jasmin), st) {
				t.Fatalf("jasmin=%v %s: %v answered %v, not in its row %v", jasmin, name, r, st, r.answers(jasmin))
			}
			if seen[r] == nil {
				seen[r] = map[codec.Status]bool{}
			}
			seen[r][st] = true
		}
		submit := func(p principal, req *codec.SM) func() codec.Status {
			return func() codec.Status { st, _ := th.submit(p, req); return st }
		}
		rich := accounts.UserLimits{Balance: accounts.Micros(1 << 40)}
		p := newUser(t, "bob", userSpec{sourceAddrs: []string{"1"}, limits: rich})
		with := func(f func(*codec.SM)) *codec.SM { r := sm("1", "491", "x"); f(r); return r }

		check("receipts", RefuseReceipts, submit(p, with(func(r *codec.SM) { r.RegisteredDelivery = 1 })))
		check("source", RefuseSource, submit(p, sm("bad", "491", "x")))
		check("no destination", RefuseDest, submit(p, sm("1", "", "x")))
		check("no route", RefuseNoRoute, submit(p, sm("1", "331", "x")))
		check("bad validity", RefuseValidity, submit(p, with(func(r *codec.SM) { r.ValidityPeriod = []byte("251331000000000+") })))
		check("past validity", RefuseValidity, submit(p, with(func(r *codec.SM) { r.ValidityPeriod = []byte("250630110000000+") })))
		check("bad schedule", RefuseSchedule, submit(p, with(func(r *codec.SM) { r.ScheduleDeliveryTime = []byte("25063012000000xR") })))
		check("schedule after validity", RefuseSchedule, submit(p, with(func(r *codec.SM) {
			r.ScheduleDeliveryTime, r.ValidityPeriod = []byte("000002000000000R"), []byte("000001000000000R")
		})))
		check("truncated UDH", RefuseMessage, submit(p, with(func(r *codec.SM) { r.ShortMessage, r.ESMClass = []byte("\x05\x00\x03"), codec.ESMClassUDHI })))
		check("SAR incomplete", RefuseMessage, submit(p, with(func(r *codec.SM) { r.TLVs.AddUint16(codec.TagSarMsgRefNum, 7) })))
		check("payload of 256 parts", RefuseMessage, submit(p, with(func(r *codec.SM) {
			r.ShortMessage = nil
			r.TLVs.Add(codec.TagMessagePayload, []byte(strings.Repeat("a", 153*255+1)))
		})))
		check("priority above 3", RefusePriority, submit(p, with(func(r *codec.SM) { r.PriorityFlag = 4 })))
		zero := uint8(0)
		noPri := newUser(t, "nopri", userSpec{limits: accounts.UserLimits{MaxPriority: &zero, Balance: rich.Balance}})
		check("priority without the right", RefusePriority, submit(noPri, with(func(r *codec.SM) { r.PriorityFlag = 1 })))
		capped := newUser(t, "capped", userSpec{limits: accounts.UserLimits{MaxValidity: time.Hour, Balance: rich.Balance}})
		check("validity above max_validity", RefuseLimits, submit(capped, with(func(r *codec.SM) { r.ValidityPeriod = []byte("000000020000000R") })))
		slow := newUser(t, "slow", userSpec{limits: accounts.UserLimits{Throughput: 1, Burst: 1, Balance: rich.Balance}})
		wantStatus(t, submit(slow, sm("1", "491", "x"))(), codec.StatusOK)
		check("throughput", RefuseThrottled, submit(slow, sm("1", "491", "x")))
		poor := newUser(t, "poor", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(500_000)}})
		check("balance", RefuseBalance, submit(poor, sm("1", "491", "x")))
		quota := newUser(t, "quota", userSpec{limits: accounts.UserLimits{Quota: 1, Balance: rich.Balance}})
		wantStatus(t, submit(quota, sm("1", "491", "x"))(), codec.StatusOK)
		check("quota", RefuseBalance, submit(quota, sm("1", "491", "x")))
		check("distribution list", RefuseDistList, func() codec.Status {
			m := &codec.SubmitMulti{SourceAddr: []byte("1"), ShortMessage: []byte("x")}
			m.Dests.AddDL([]byte("friends"))
			res := &engine.SubmitResult{Unsuccess: new(codec.UnsuccessList)}
			th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitMultiID, SystemID: "bob", SubmitMulti: m, Principal: p.Bind}, res)
			return res.Unsuccess.At(0).Status
		})
		check("route to a connector the hub lacks", RefuseInternal, func() codec.Status {
			// New checks the table it is given; a later one compiled
			// against other connectors is a wiring bug.
			bad, err := routing.Compile(routing.Config{Connectors: []string{"a", "b"},
				MT: []routing.MTRouteConfig{{Name: "b", Kind: "static", Connectors: []string{"b"}}}})
			if err != nil {
				t.Fatal(err)
			}
			th.router.Swap(bad)
			defer th.router.Swap(th.table)
			return submit(p, sm("1", "491", "x"))()
		})
		th.store.setFail(errBoom)
		check("store fails", RefuseStorage, submit(p, sm("1", "491", "x")))
		th.store.setFail(nil)
		th.conns[0].cap = th.conns[0].queued() + 1
		wantStatus(t, submit(p, sm("1", "491", "x"))(), codec.StatusOK)
		check("ring full", RefuseQueueFull, submit(p, sm("1", "491", "x")))
		th.conns[0].cap = 0
		lim := policy.NewLimits()
		if err := lim.Apply([]policy.LimitConfig{{Sender: "2", Rate: 1, Burst: 1}, {Route: "de", Rate: 1, Burst: 1}}); err != nil {
			t.Fatal(err)
		}
		th.opts.Policy = &policy.Hook{Holder: pol, Limits: lim}
		lu := newUser(t, "limited", userSpec{limits: rich})
		wantStatus(t, submit(lu, sm("2", "491", "x"))(), codec.StatusOK)
		check("sender's limit", RefuseSenderTPS, submit(lu, sm("2", "491", "x")))
		check("route's limit", RefuseRouteTPS, submit(lu, sm("1", "491", "x")))
		th.opts.Policy = &policy.Hook{Holder: pol}

		// replace_sm refusals counted with the submits'.
		for th.conns[0].queued() > 0 {
			th.conns[0].pop(t) // submitted takes the oldest
		}
		rp := newUser(t, "rp", userSpec{limits: rich})
		_, id := submitted(t, th, rp, 0, "short")
		check("replace: SAR incomplete", RefuseMessage, func() codec.Status {
			r := textReplace(id, "x")
			r.TLVs.AddUint16(codec.TagSarMsgRefNum, 7)
			return replace(th, rp, r)
		})
		_, cid := submitted(t, th, capped, 0, "short")
		check("replace: validity above max_validity", RefuseLimits, func() codec.Status {
			r := textReplace(cid, "y")
			r.ValidityPeriod = []byte("000000020000000R")
			return replace(th, capped, r)
		})
		few := newUser(t, "few", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(1_500_000)}})
		_, fid := submitted(t, th, few, 0, "short")
		check("replace: extra parts over the balance", RefuseBalance, func() codec.Status {
			return replace(th, few, payloadReplace(fid, 400))
		})
		check("blocked by the policy", RefusePolicy, func() codec.Status {
			blocked, err := policy.Compile(&policy.Config{List: []policy.ListConfig{{Name: "b", Kind: "block", Field: "dest",
				Entries: []string{"4999*"}}}}, "", policy.Options{})
			if err != nil {
				t.Fatal(err)
			}
			pol.Swap(blocked)
			defer pol.Swap(nil)
			return submit(p, sm("1", "49991", "x"))()
		})
		var backlog atomic.Bool
		backlog.Store(true)
		th.opts.Backlog = &backlog
		check("CDR writer behind", RefuseBacklog, submit(p, sm("1", "491", "x")))
		th.opts.Backlog = nil
		rc := newUser(t, "carol", userSpec{receipts: true, sourceAddrs: []string{"1"}, limits: rich})
		th.SetReceiptBacklog(rc.Bind.User().SystemID, true)
		check("receivers behind", RefuseReceiptBacklog, submit(rc, func() *codec.SM { r := sm("1", "491", "x"); r.RegisteredDelivery = 1; return r }()))
		th.SetReceiptBacklog(rc.Bind.User().SystemID, false)
		p.setEnabled(t, false)
		check("user disabled", RefuseDisabled, submit(p, sm("1", "491", "x")))

		for r := range numRefusals {
			if len(seen[r]) == 0 {
				t.Errorf("jasmin=%v: %v never reached", jasmin, r)
			}
		}
		if jasmin && (!seen[RefuseBalance][codec.StatusSysErr] || !seen[RefusePriority][codec.StatusInvSysID]) {
			t.Errorf("Jasmin's statuses not answered: %v", seen)
		}
	}
}
