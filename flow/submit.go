package flow

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// submitScratch is one MT request's working memory, pooled so the request
// path allocates nothing. Between requests it holds no views (clear).
type submitScratch struct {
	sub  submission
	rec  storage.Record
	mt   routing.MT
	src  []byte       // the user's default source, copied
	pol  msg.Envelope // the policy's working copy (policy.go)
	sent sent         // the submit's own values while the policy rewrites
	bin  []byte       // the message's binary form for a durable store (msg.AppendBinary)
	// collect: the accepted messages wait in hands for the answer instead
	// of going to their connectors at once (handoff.go).
	collect bool
	hands   []*msg.Message
	// lastUser's counters, kept across requests: a pooled scratch mostly
	// serves one loop's sessions, and a userTable entry never changes, so
	// the map lookup (a string hash) is skipped while the user repeats.
	lastUser string
	lastCtr  *userCounters
	// lastRoute's accepted count, kept the same way (a name's count never
	// changes): no map read per message while the route repeats.
	lastRoute string
	lastAcc   interface{ Inc() }
}

// routeAccepted counts an MT accepted on route through h's counter.
func (sc *submitScratch) routeAccepted(h *Hub, route string) {
	if h.routesOn == nil {
		h.opts.Routes.Accepted(route)
		return
	}
	if sc.lastAcc == nil || sc.lastRoute != route {
		sc.lastRoute, sc.lastAcc = route, h.routesOn.AcceptedOn(route)
	}
	sc.lastAcc.Inc()
}

// counters returns systemID's counters from t, the last user's from memory.
func (sc *submitScratch) counters(t *userTable, systemID string) *userCounters {
	if sc.lastCtr == nil || sc.lastUser != systemID {
		sc.lastUser, sc.lastCtr = systemID, t.get(systemID)
	}
	return sc.lastCtr
}

// submission is an MT request in one shape whatever PDU brought it. Byte
// fields are views into the engine's read buffer, valid during
// HandleSubmit only.
type submission struct {
	user     *accounts.User
	ctr      *userCounters
	systemID string
	group    string
	command  uint32
	now      time.Time
	nowNs    int64
	mayWait  bool       // a full queue answers Wait (the engine holds the PDU), not ESME_RMSGQFUL
	turnEnd  bool       // the engine calls EndTurn after this request: connectors may be helped then
	turn     *turnBatch // the loop's, when the engine calls EndTurnOn after this request (turn.go)
	turnFull bool       // a connector's room for the turn was used up: a full queue for mayWait

	serviceType                                        []byte
	srcTON, srcNPI                                     uint8
	src                                                []byte
	srcDefaulted                                       bool
	dstTON, dstNPI                                     uint8
	dst                                                []byte
	esmClass, protocolID, priority                     uint8
	schedRaw, validRaw                                 []byte
	regDlv, replaceIfPresent, dataCoding, defaultMsgID uint8
	sm                                                 []byte
	tlvs                                               *codec.TLVs
	qosTTL                                             uint32 // data_sm qos_time_to_live, seconds; 0 = none

	content []byte // short_message, or message_payload: what routes and receipts see
	text    []byte // content after its UDH

	schedule, expires int64         // Unix ns; schedule 0 = at once
	validity          time.Duration // asked by the ESME; 0 = none asked (default applies)

	parts              int
	partRef            uint16
	partNum, partTotal uint8

	route string // the matched MT route's name, for per-route limits and counts ("" before one matched)
}

func (sc *submitScratch) clear() {
	sc.sub = submission{}
	sc.rec = storage.Record{}
	sc.mt = routing.MT{}
	sc.sent = sent{}
	sc.pol.Drop()
	clear(sc.hands)
	sc.hands, sc.collect = sc.hands[:0], false
}

func (s *submission) fromSM(p *codec.SM) {
	s.serviceType = p.ServiceType
	s.srcTON, s.srcNPI, s.src = p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr
	s.dstTON, s.dstNPI, s.dst = p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr
	s.esmClass, s.protocolID, s.priority = p.ESMClass, p.ProtocolID, p.PriorityFlag
	s.schedRaw, s.validRaw = p.ScheduleDeliveryTime, p.ValidityPeriod
	s.regDlv, s.replaceIfPresent, s.dataCoding, s.defaultMsgID = p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID
	s.sm, s.tlvs = p.ShortMessage, &p.TLVs
	s.content = p.ShortMessage
	if v, ok := p.TLVs.Get(codec.TagMessagePayload); ok {
		s.content = v
	}
}

func (s *submission) fromDataSM(p *codec.DataSM) {
	s.serviceType = p.ServiceType
	s.srcTON, s.srcNPI, s.src = p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr
	s.dstTON, s.dstNPI, s.dst = p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr
	s.esmClass, s.regDlv, s.dataCoding = p.ESMClass, p.RegisteredDelivery, p.DataCoding
	s.tlvs = &p.TLVs
	s.content, _ = p.TLVs.Get(codec.TagMessagePayload)
	s.qosTTL, _ = p.TLVs.Uint32(codec.TagQOSTimeToLive)
}

func (s *submission) fromMulti(p *codec.SubmitMulti) {
	s.serviceType = p.ServiceType
	s.srcTON, s.srcNPI, s.src = p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr
	s.esmClass, s.protocolID, s.priority = p.ESMClass, p.ProtocolID, p.PriorityFlag
	s.schedRaw, s.validRaw = p.ScheduleDeliveryTime, p.ValidityPeriod
	s.regDlv, s.replaceIfPresent, s.dataCoding, s.defaultMsgID = p.RegisteredDelivery, p.ReplaceIfPresentFlag, p.DataCoding, p.SMDefaultMsgID
	s.sm, s.tlvs = p.ShortMessage, &p.TLVs
	s.content = p.ShortMessage
	if v, ok := p.TLVs.Get(codec.TagMessagePayload); ok {
		s.content = v
	}
}

// HandleSubmit implements engine.SubmitHandler: it decides submit_sm,
// data_sm and submit_multi on the event loop and answers at once, or,
// when the accepted message's record is not on disk yet (a store with
// Options.Committer that syncs before acknowledging), Deferred: the answer
// goes out once the store committed it (acks.go). Statuses: see Refusal.
// It allocates nothing in steady state.
func (h *Hub) HandleSubmit(req *engine.SubmitRequest, res *engine.SubmitResult) {
	u := userOf(req.Principal)
	var turn *turnBatch
	if req.TurnEnd && req.Loop != nil {
		turn = turnOf(req.Loop)
	}
	sc := h.takeScratch(turn)
	s := &sc.sub
	s.user, s.systemID, s.group = u, u.SystemID, u.Group
	s.ctr = sc.counters(&h.ustats, u.SystemID)
	s.command = uint32(req.Command)
	if h.wallClock && !req.Now.IsZero() {
		s.now = req.Now // the engine read the clock already
	} else {
		s.now = h.now()
	}
	s.nowNs = s.now.UnixNano()
	// submit_multi answers per destination at once: it never waits.
	s.mayWait = req.MayWait && req.SubmitMulti == nil
	s.turnEnd, s.turn = req.TurnEnd, turn
	switch {
	case req.SubmitSM != nil:
		s.fromSM(req.SubmitSM)
	case req.DataSM != nil:
		s.fromDataSM(req.DataSM)
	case req.SubmitMulti != nil:
		s.fromMulti(req.SubmitMulti)
	default:
		res.Status = codec.StatusSysErr
		h.putScratch(sc, turn)
		return
	}
	var id msg.ID
	slots := 1 // the answer's, and one per message it hands over
	if req.SubmitMulti != nil {
		slots = max(1, req.SubmitMulti.Dests.NumDests())
	}
	st, r := h.prepare(sc)
	if st, r = h.admitBacklog(s, st, r); r == refuseWait {
		res.Wait = true // the CDR writer is behind: the session waits unread, as for a full queue
	} else if st != codec.StatusOK {
		h.refuse(s, r, st)
		res.Status = st
	} else if !h.acks.reserve(slots) {
		h.refuse(s, RefuseStorage, RefuseStorage.status())
		res.Status = RefuseStorage.status()
		if e := h.event(&h.warn.store, zerologError); e != nil {
			e.Int("waiting", h.acks.waiting()).Msg("too many answers wait for the disk (MaxDeferred): answered ESME_RMSGQFUL")
		}
	} else {
		sc.collect = h.acks.collects()
		if req.SubmitMulti != nil {
			id = h.submitMulti(sc, req.SubmitMulti, res)
		} else {
			id = h.submitOne(sc, res)
		}
		if res.Wait || res.Status != codec.StatusOK {
			h.acks.unreserve(slots) // nothing was collected
		} else if h.acks.deferAnswer(req.Token, id, sc.hands, slots) {
			res.Deferred = true
		} else {
			h.handNow(sc)
		}
	}
	h.putScratch(sc, turn)
}

// takeScratch returns a request's scratch: the loop's own when the request
// comes from an event loop's turn and that one is free (a sync.Pool Get
// and Put cost 2.7% of smppd's CPU at 4 x 100), else a pooled one.
func (h *Hub) takeScratch(t *turnBatch) *submitScratch {
	if t != nil && !t.scBusy {
		if t.sc == nil {
			t.sc = new(submitScratch)
		}
		t.scBusy = true
		return t.sc
	}
	return h.scratch.Get().(*submitScratch)
}

// putScratch clears sc and gives it back to where takeScratch took it.
func (h *Hub) putScratch(sc *submitScratch, t *turnBatch) {
	sc.clear()
	if t != nil && sc == t.sc {
		t.scBusy = false
		return
	}
	h.scratch.Put(sc)
}

// submitOne places a submit_sm or data_sm and returns its id.
func (h *Hub) submitOne(sc *submitScratch, res *engine.SubmitResult) msg.ID {
	id := h.ids.Next()
	st, r, _ := h.place(sc, h.router.Load(), id, true, true)
	if st != codec.StatusOK {
		if r == refuseWait {
			res.Wait = true // place undid everything; the engine offers it again
			return id
		}
		h.refuse(&sc.sub, r, st)
		res.Status = st
		return id
	}
	res.Status = codec.StatusOK
	res.MessageID = id.AppendHex(res.MessageID)
	return id
}

// submitMulti places each SME destination of a submit_multi under one
// shared id. Distribution lists (none are configured) and refused
// destinations go to the unsuccess list; the command succeeds when at
// least one destination was queued, else it carries the first refusal.
// One Record stands for the whole message: it holds the first queued
// destination's addresses, the latest state any destination reported and
// the charge of every destination queued (each destination's Put carries
// the running total, so the ledger sees each charge once); no destination
// is in the live index, so cancel_sm and replace_sm do not apply to it.
func (h *Hub) submitMulti(sc *submitScratch, p *codec.SubmitMulti, res *engine.SubmitResult) msg.ID {
	s := &sc.sub
	t := h.router.Load()
	id := h.ids.Next()
	first, accepted, recorded := codec.StatusOK, 0, false
	for i := range p.Dests.NumDests() {
		d := p.Dests.Dest(i)
		var st codec.Status
		var r Refusal
		if d.Flag != codec.DestFlagSMEAddress {
			st, r = refused(RefuseDistList)
		} else {
			s.dstTON, s.dstNPI, s.dst = d.TON, d.NPI, d.Addr
			var put bool
			st, r, put = h.place(sc, t, id, false, !recorded)
			recorded = recorded || put
		}
		if st == codec.StatusOK {
			accepted++
			continue
		}
		h.refuse(s, r, st)
		if first == codec.StatusOK {
			first = st
		}
		if res.Unsuccess != nil {
			res.Unsuccess.Add(codec.Unsuccess{TON: d.TON, NPI: d.NPI, Addr: d.Addr, Status: st})
		}
	}
	if accepted == 0 {
		if recorded {
			h.noteStore(h.msgs.SetState(id, msg.StateRejected, uint16(first), s.nowNs), "state", id)
		}
		res.Status = first
		return id
	}
	res.Status = codec.StatusOK
	res.MessageID = id.AppendHex(res.MessageID)
	return id
}

// prepare runs the checks shared by every destination of a request: the
// receipt right, the source address, the SMPP times and the parts.
func (h *Hub) prepare(sc *submitScratch) (codec.Status, Refusal) {
	s := &sc.sub
	// A bind outlives a disable: its session keeps the record, which the
	// Store marks inactive, so every request checks it.
	if !s.user.Active() {
		return refused(RefuseDisabled)
	}
	if s.regDlv != 0 && !s.user.Receipts {
		return refused(RefuseReceipts)
	}
	if len(s.src) == 0 {
		if def := s.user.DefaultSource; def != "" {
			sc.src = append(sc.src[:0], def...)
			s.src, s.srcDefaulted = sc.src, true
		}
	}
	// The operator's default source is trusted; an ESME's own is checked.
	if !s.srcDefaulted && !s.user.SourceAllowed(s.src) {
		return refused(RefuseSource)
	}
	if st, r := h.times(s); st != codec.StatusOK {
		return st, r
	}
	return s.countParts()
}

// times resolves validity_period (or data_sm's qos_time_to_live) and
// schedule_delivery_time (SMPP 3.4 §7.1.1) against the request's arrival.
// A validity in the past is ESME_RINVEXPIRY; a schedule after an explicit
// validity is ESME_RINVSCHED; a schedule after the default validity moves
// the default along (the message still gets DefaultValidity to go).
func (h *Hub) times(s *submission) (codec.Status, Refusal) {
	if len(s.validRaw) == 0 && len(s.schedRaw) == 0 {
		// Neither field set, the usual submit: nothing to parse (each parse
		// returns an 80-byte codec.Time, copied through the stack).
		h.unsetValidity(s)
		return codec.StatusOK, 0
	}
	vt, err := codec.ParseTime(s.validRaw)
	if err != nil {
		return refused(RefuseValidity)
	}
	if vt.Kind != codec.TimeNotSet {
		at := vt.Resolve(s.now)
		if !at.After(s.now) {
			return refused(RefuseValidity)
		}
		s.validity, s.expires = at.Sub(s.now), at.UnixNano()
	} else {
		h.unsetValidity(s)
	}
	st, err := codec.ParseTime(s.schedRaw)
	if err != nil {
		return refused(RefuseSchedule)
	}
	if st.Kind != codec.TimeNotSet {
		s.schedule = st.Resolve(s.now).UnixNano()
		if s.schedule >= s.expires {
			if s.validity != 0 {
				return refused(RefuseSchedule)
			}
			s.expires = s.schedule + int64(h.opts.DefaultValidity)
		}
	}
	return codec.StatusOK, 0
}

// unsetValidity sets the validity of a request without validity_period:
// data_sm's qos_time_to_live, or else the default, never beyond the
// user's max_validity.
func (h *Hub) unsetValidity(s *submission) {
	if s.qosTTL > 0 {
		s.validity = time.Duration(s.qosTTL) * time.Second
		s.expires = s.nowNs + int64(s.validity)
		return
	}
	def := h.opts.DefaultValidity
	if mv := s.user.Limits.MaxValidity; mv > 0 && mv < def {
		def = mv
	}
	s.validity, s.expires = 0, s.nowNs+int64(def)
}

// place routes, admits and queues the request for its current destination
// under id. live indexes the Message for cancel_sm and replace_sm
// (single-destination requests only); fresh starts the Record from this
// destination (always for single destinations, for the first of a
// submit_multi; later destinations store it again with their charge
// added). recorded reports whether the Record was stored. A Record the
// store refuses is ESME_RMSGQFUL (RefuseStorage): nothing is queued
// without one, and nothing is charged. Every check that can refuse comes
// before the store's write, so a refusal never costs a stored record (an
// evicted one in a bounded memory store).
func (h *Hub) place(sc *submitScratch, t *routing.Table, id msg.ID, live, fresh bool) (st codec.Status, r Refusal, recorded bool) {
	s := &sc.sub
	s.route = "" // a submit_multi's previous destination's
	if len(s.dst) == 0 {
		return RefuseDest.status(), RefuseDest, false
	}
	pol := h.policy()
	if pol != nil {
		if st, r := h.applyPolicy(sc, pol); st != codec.StatusOK {
			return st, r, false
		}
	}
	// Field by field: a composite literal is built in a temporary and
	// copied with wide loads that stall on store forwarding (sc.mt is clear
	// or a previous destination's, every field of which is set here).
	mt := &sc.mt
	mt.User, mt.Group, mt.Source, mt.Dest, mt.Content = s.systemID, s.group, s.src, s.dst, s.content
	mt.DataCoding, mt.Network, mt.Tags, mt.Now = s.dataCoding, sc.pol.Network, sc.pol.Tags, s.now
	var dec routing.Decision
	d := &dec
	if !t.RouteMTTo(mt, &h.up, d) {
		return RefuseNoRoute.status(), RefuseNoRoute, false
	}
	s.route = d.Route.Name
	conn, failover := d.Connector, d.Failover
	cs := h.cs()
	var affKey uint64
	if s.partTotal > 1 {
		affKey = h.aff.key(s.systemID, s.dst, s.partRef)
		if c, ok := h.aff.get(affKey, s.now); ok && cs.live(c) {
			conn, failover = c, nil // parts stay together: no failover either
		}
	}
	if !cs.has(conn) {
		if e := h.event(&h.warn.internal, zerologError); e != nil {
			e.Int("connector", conn).Int("connectors", len(cs.conns)).
				Msg("route names a connector id the hub does not have: build the routing table with Config.Connectors")
		}
		return RefuseInternal.status(), RefuseInternal, false
	}
	if pol != nil {
		h.policyOutbound(sc, pol, conn)
	}
	hold := h.later.farFuture(s.schedule, s.nowNs)
	switch {
	case hold:
		if !h.later.reserve() {
			return h.queueFull(s, conn, "messages waiting for their schedule_delivery_time (MaxScheduled)")
		}
	case h.queuesFull(conn, failover):
		if s.mayWait {
			// Nothing taken yet: the session waits for room without this
			// attempt evicting a record or spending an id's worth of work.
			return codec.StatusMsgQFul, refuseWait, false
		}
		return h.queueFull(s, conn, "")
	}
	if st, r, ok := h.takeLimits(s); !ok {
		if hold {
			h.later.unreserve()
		}
		return st, r, false
	}
	charge, why := accounts.Charge{}, accounts.Admitted
	if s.parts > 0 { // 0: a later part of a long message admitted whole with its first (direct.go)
		charge, why = h.adm.Admit(&s.user.Limits, s.parts, d.Rate, s.priority, s.validity, s.nowNs)
	}
	if why != accounts.Admitted {
		h.giveLimits(s)
		if hold {
			h.later.unreserve()
		}
		return codec.Status(h.adm.Status(why)), refusalOf(why), false
	}
	m := msg.NewMessage()
	s.fill(m, id)
	h.keepCharge(m, charge)
	rec := &sc.rec
	if fresh {
		fillRecord(rec, m, s.text)
		rec.MTRoute = d.Route.Name // a shared string of the table: no copy
		sc.recordSent()
	}
	before, beforeParts := rec.Charge, rec.ChargeParts
	rec.Charge += charge.Micros()
	rec.ChargeParts += uint16(min(charge.Parts(), 0xFFFF-int64(rec.ChargeParts)))
	if live {
		h.live.add(m) // before the connector has it: it may report at once
	}
	used, stored, err := h.queue(sc, m, conn, failover, hold, s.turnEnd)
	if err != nil {
		if !stored {
			rec.Charge, rec.ChargeParts = before, beforeParts // a later destination's Put must not carry it
		}
		if hold {
			h.later.unreserve()
		}
		// The index lets go of m before the pool gets it back. The ESME
		// never learns this id, so its record goes too.
		if live {
			h.live.remove(m)
			if stored {
				h.forget(id, s.nowNs)
			}
		}
		h.settleDest(m, true) // refused: its held copy must not be sent at a restart
		if stored {
			h.settleCharge(m, true)
		} else {
			h.undoCharge(m) // no record carried the charge to the ledger
		}
		h.adm.Unadmit(&s.user.Limits, s.parts, s.nowNs)
		h.giveLimits(s)
		m.Release()
		if err != errRingsFull {
			if s.mayWait && !stored && errors.Is(err, storage.ErrBusy) {
				// The store's device is behind: the session waits
				// unread, as for a full queue (the engine counts the
				// wait), and the PDU is offered again; past
				// queue_full_wait it is refused.
				return codec.StatusMsgQFul, refuseWait, false
			}
			h.noteStore(err, "put", id)
			return RefuseStorage.status(), RefuseStorage, stored
		}
		if s.mayWait && (s.turnFull || h.queuesFull(conn, failover)) {
			return codec.StatusMsgQFul, refuseWait, stored // not a refusal yet: the session waits
		}
		st, r, _ = h.queueFull(s, conn, "")
		return st, r, stored
	}
	if s.partTotal > 1 {
		h.aff.put(affKey, used, s.now)
	}
	p := procPin() // the hub's and the user's counts on this P's cells (pcount.go)
	h.stats.accepted.addOn(p, 1, 0)
	if s.ctr != nil {
		s.ctr.sent.addOn(p, 1, uint64(s.parts))
	}
	procUnpin()
	if h.opts.Routes != nil {
		sc.routeAccepted(h, d.Route.Name)
	}
	return codec.StatusOK, 0, true
}

// queueFull counts and logs a refusal for full queues (or, with why, a
// full schedule) and returns its status.
func (h *Hub) queueFull(s *submission, conn int, why string) (codec.Status, Refusal, bool) {
	h.stats.queueFull.Add(1)
	if e := h.event(&h.warn.queueFull, zerologWarn); e != nil {
		if why == "" {
			why = "connector queue full (and no failover could take it)"
		}
		e.Str("system_id", s.systemID).Str("connector", h.ConnectorName(conn)).
			Uint64("queue_full_total", h.stats.queueFull.Load()).Msg(why + ": answered ESME_RMSGQFUL")
	}
	return RefuseQueueFull.status(), RefuseQueueFull, false
}

// errRingsFull is queue's answer when every ring it tried was full.
var errRingsFull = errors.New("flow: every connector queue full")

// queue hands m to connector conn, or, when its ring is full, to the first
// failover connector that is up and has room, storing the Record (sc.rec)
// before each Submit, because a connector may report on m before Submit
// returns; with a durable store the Record goes with m's binary form
// (PutMessage), naming the connector by m.Route. hold keeps m in the hub
// until its schedule (later.go) instead. It returns the connector used and
// whether a Put succeeded; on an error (errRingsFull, or the store's
// refusal of the Record) nothing took m, which is still the caller's.
// quiet leaves a Helped connector's worker to EndTurn.
func (h *Hub) queue(sc *submitScratch, m *msg.Message, conn int, failover []int, hold, quiet bool) (int, bool, error) {
	c, next, stored := conn, 0, false
	cs := h.cs()
	for {
		m.Connector, m.Failover, m.Route = c, failover[next:], cs.conns[c].Name()
		if err := h.store(sc, m, c); err != nil {
			return c, stored, err
		}
		stored = true
		if hold {
			h.later.add(m, m.Schedule, true)
			return c, true, nil
		}
		if h.handOrSubmit(sc, cs, c, m, quiet) {
			if c != conn {
				h.stats.failovers.Add(1)
			}
			return c, stored, nil
		}
		for {
			if next >= len(failover) {
				return c, stored, errRingsFull
			}
			c = failover[next]
			next++
			if cs.has(c) && (cs.conns[c].Up() || h.spilling(c)) {
				break
			}
		}
	}
}

// store writes the Record for m queued on connector c: with m's binary
// form when the store keeps messages across restarts.
func (h *Hub) store(sc *submitScratch, m *msg.Message, c int) error {
	rec := &sc.rec
	rec.Connector, rec.Expires = int32(c), m.Expires
	if !h.opts.Durable {
		return h.msgs.Put(rec)
	}
	sc.bin, _ = m.AppendBinary(sc.bin[:0])
	if h.holdsDests(m) {
		// The destination's copy, not the record, keeps its body (multi.go).
		if err := h.holdDest(m, sc.bin, sc.sub.nowNs); err != nil {
			return err
		}
		if err := h.msgs.Put(rec); err != nil {
			h.settleDest(m, true)
			return err
		}
		return nil
	}
	return h.msgs.PutMessage(rec, sc.bin)
}

// forget drops the record of a message the ESME never learned about; a
// store that cannot drop it marks it REJECTED.
func (h *Hub) forget(id msg.ID, now int64) {
	if err := h.msgs.Delete(id); err != nil && !errors.Is(err, storage.ErrNotFound) {
		h.noteStore(err, "delete", id)
		h.noteStore(h.msgs.SetState(id, msg.StateRejected, uint16(codec.StatusMsgQFul), now), "state", id)
	}
}

// queuesFull reports whether a message for conn (and its failover) can
// only wait for room: conn, and every failover that is up, reports a full
// queue. A connector that is stopped, or cannot tell, is no reason to wait.
func (h *Hub) queuesFull(conn int, failover []int) bool {
	cs := h.cs()
	for i := -1; i < len(failover); i++ {
		c := conn
		if i >= 0 {
			if c = failover[i]; !cs.has(c) || !cs.conns[c].Up() {
				continue
			}
		}
		if !cs.has(c) || !cs.conns[c].QueueFull() {
			return false
		}
	}
	return true
}

// submitTo hands m to connector c, quietly when asked and c allows it.
func (h *Hub) submitTo(cs *connSet, c int, m *msg.Message, quiet bool) bool {
	if quiet && cs.helped[c] {
		if !cs.conns[c].SubmitQuiet(m) {
			return false
		}
		if f := cs.fed[c]; !f.v.Load() {
			f.v.Store(true) // after the push: whoever clears it helps c
		}
		return true
	}
	return cs.conns[c].Submit(m)
}

// EndTurn implements engine.TurnEnder: once a loop's answers are written,
// every connector fed quietly since is helped (or woken).
func (h *Hub) EndTurn() {
	cs := h.cs()
	for i, f := range cs.fed {
		// Atomics are sequentially consistent: a producer that saw the flag
		// set (and skipped its store) pushed before this Swap, so this Help
		// covers its message.
		if f.v.Load() && f.v.Swap(false) {
			cs.conns[i].Help()
		}
	}
}

// fedFlag is one connector's pending Help, on a cache line of its own
// (every loop writes it).
type fedFlag struct {
	v atomic.Bool
	_ [56]byte
}

// fill copies the request into m (owned copies into m's retained buffers),
// in the order of m's fields. m comes from msg.NewMessage, its buffers
// empty: the ones most submits leave empty (service_type, the two times,
// the TLVs) are appended to only when the request has them.
func (s *submission) fill(m *msg.Message, id msg.ID) {
	m.ID, m.SystemID, m.Group = id, s.systemID, s.group
	m.Received, m.Schedule, m.Expires = s.nowNs, s.schedule, s.expires
	if len(s.serviceType) > 0 {
		m.ServiceType = append(m.ServiceType[:0], s.serviceType...)
	}
	m.Source = append(m.Source[:0], s.src...)
	m.Dest = append(m.Dest[:0], s.dst...)
	if len(s.schedRaw) > 0 {
		m.ScheduleDeliveryTime = append(m.ScheduleDeliveryTime[:0], s.schedRaw...)
	}
	if len(s.validRaw) > 0 {
		m.ValidityPeriod = append(m.ValidityPeriod[:0], s.validRaw...)
	}
	m.ShortMessage = append(m.ShortMessage[:0], s.sm...)
	if raw := s.tlvs.Raw(); len(raw) > 0 {
		m.TLVs = append(m.TLVs[:0], raw...)
	}
	m.Command = s.command
	m.SourceTON, m.SourceNPI, m.DestTON, m.DestNPI = s.srcTON, s.srcNPI, s.dstTON, s.dstNPI
	m.ESMClass, m.ProtocolID, m.Priority = s.esmClass, s.protocolID, s.priority
	m.RegisteredDelivery, m.ReplaceIfPresent = s.regDlv, s.replaceIfPresent
	m.DataCoding, m.SMDefaultMsgID = s.dataCoding, s.defaultMsgID
	m.PartNum, m.PartTotal, m.PartRef, m.Parts = s.partNum, s.partTotal, s.partRef, s.parts
}

// fillRecord sets rec to the fresh state of m; text is m's content after
// any UDH (its first octets are kept for receipts).
// It zeroes rec in place and sets the fields one by one: a composite
// literal would be built in a temporary and copied with wide loads that
// stall on store forwarding.
func fillRecord(rec *storage.Record, m *msg.Message, text []byte) {
	*rec = storage.Record{}
	rec.ID, rec.SystemID, rec.State = m.ID, m.SystemID, msg.StateEnroute
	rec.RegisteredDelivery, rec.DataCoding, rec.ESMClass = m.RegisteredDelivery, m.DataCoding, m.ESMClass
	rec.SourceTON, rec.SourceNPI, rec.DestTON, rec.DestNPI = m.SourceTON, m.SourceNPI, m.DestTON, m.DestNPI
	rec.Connector, rec.Submitted, rec.Parts = int32(m.Connector), m.Received, uint8(m.Parts)
	rec.SetAddrs(m.Source, m.Dest, text)
}

// refusalOf maps an admission refusal to the hub's reason.
func refusalOf(r accounts.Refusal) Refusal {
	switch r {
	case accounts.RefuseThrottled:
		return RefuseThrottled
	case accounts.RefuseBalance, accounts.RefuseQuota:
		return RefuseBalance
	case accounts.RefusePriority, accounts.RefusePriorityOff:
		return RefusePriority
	case accounts.RefuseValidity:
		return RefuseLimits
	}
	return RefuseInternal
}

// refuse counts a refusal and logs it at debug level.
func (h *Hub) refuse(s *submission, r Refusal, st codec.Status) {
	if r < numRefusals {
		h.stats.refused[r].Add(1)
		if rc := h.opts.Routes; rc != nil && s != nil {
			rc.Refused(s.route)
		}
		if s != nil && s.ctr != nil {
			s.ctr.refused[r].Add(1)
		}
	}
	if e := h.log.Debug(); e.Enabled() {
		if s != nil {
			var buf [storage.MaxAddr]byte
			e.Str("system_id", s.systemID).Bytes("dest", h.logAddr(buf[:0], s.dst))
		}
		e.Str("reason", r.String()).Str("status", st.String()).Msg("MT refused")
	}
}
