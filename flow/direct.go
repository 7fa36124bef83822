package flow

import (
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
	"github.com/smppd/smppd/storage"
)

// Direct submits: MT from callers that are not event loops (the HTTP API).
// A direct submit is a submit_sm taken through the same checks, routing,
// admission (the user's throughput bucket, balance and quota: one set for
// SMPP and HTTP), record, connector queue and receipts as HandleSubmit's;
// only the answer differs. It is never Deferred: a caller that must not
// answer before the store has the message durable calls WaitDurable on its
// own goroutine after its submits (one wait covers a whole batch: the
// largest Written). With a durable store (Options.Committer) the message
// goes to its connector as an SMPP submit's does (handoff.go): not before
// the commit covering its record, the one that ends the caller's wait, and,
// with DirectRequest.Hold, not before the caller has answered and called
// Release; a batch's messages share their group commits.

// DirectRequest is one MT message for SubmitDirect.
type DirectRequest struct {
	// User is the sender's current record (accounts.Store.Login's):
	// read once per request.
	User *accounts.User
	// SM is the message as a submit_sm would carry it; its byte fields are
	// read during the call only.
	SM *codec.SM
	// ID is the message's id, from NextID: issued before the submit, so
	// the caller can key what it keeps about the message (an HTTP
	// callback) before a connector can report on it.
	ID msg.ID
	// Parts > 0 on the first part of a long message the caller split
	// itself: that part is admitted and charged for all Parts at once
	// (throughput, quota and balance), so a message is refused whole or
	// not at all; its record carries the whole charge. Later parts set
	// Follows and take nothing more. 0 = as flow counts it.
	Parts int
	// Follows marks a later part of a message whose first part carried
	// Parts.
	Follows bool
	// Now is when the request arrived; zero = the hub's clock.
	Now time.Time
	// Quiet queues to a connector the loops may help without waking its
	// worker; the caller then calls EndTurn (or Release) once after its
	// batch. (A message handed over at the commit goes quietly to a helped
	// connector whatever Quiet says: acks.handOff.)
	Quiet bool
	// Hold, when set and the store is durable (Options.Committer), keeps
	// the accepted message from its connector until the caller has
	// answered and calls Hub.Release: a receipt callback then cannot reach
	// the client before the answer carrying its id. nil: the message goes
	// once its record is durable. With the memory store it goes at once
	// either way (its connector's full queue answers at the submit).
	Hold *DirectHold
	// Written is set by an accepted SubmitDirect: the store's write
	// position just after the message's record (0 with a store that is
	// not durable), for WaitDurable. Read before the connector has the
	// message, so a wait for it does not include its later writes.
	Written uint64
}

// NextID issues a message id for a DirectRequest, in issue order
// (msg.IDGen.NextInOrder): a web customer's messages list newest first.
func (h *Hub) NextID() msg.ID { return h.ids.NextInOrder() }

// SubmitDirect decides one MT message for a caller on any goroutine, as
// HandleSubmit decides a submit_sm: the status (ESME_ROK when the message
// is accepted: queued, or waiting for its commit to be handed over) and,
// for a refusal, its Refusal. Safe for concurrent use; it never blocks.
func (h *Hub) SubmitDirect(req *DirectRequest) (codec.Status, Refusal) {
	sc := h.scratch.Get().(*submitScratch)
	s := &sc.sub
	u := req.User
	s.user, s.systemID, s.group = u, u.SystemID, u.Group
	s.ctr = h.ustats.get(u.SystemID)
	s.command = uint32(codec.SubmitSMID)
	if s.now = req.Now; s.now.IsZero() {
		s.now = h.now()
	}
	s.nowNs = s.now.UnixNano()
	s.turnEnd = req.Quiet
	s.fromSM(req.SM)
	st, r := h.prepare(sc)
	if !req.Follows { // a later part of a message is in flight: its first part was let through
		st, r = h.admitBacklog(s, st, r)
	}
	if st == codec.StatusOK && !h.acks.reserve(1) {
		st, r = RefuseStorage.status(), RefuseStorage
		if e := h.event(&h.warn.store, zerologError); e != nil {
			e.Int("waiting", h.acks.waiting()).Msg("too many answers and messages wait for the disk (MaxDeferred): HTTP submit refused")
		}
	} else if st == codec.StatusOK {
		switch {
		case req.Follows:
			s.parts = 0 // its first part took the whole message's share
		case req.Parts > 0:
			s.parts = req.Parts
		}
		sc.collect = h.acks.collects()
		if st, r, _ = h.place(sc, h.router.Load(), req.ID, true, true); st != codec.StatusOK {
			h.acks.unreserve(1) // nothing was collected
		}
	}
	if st != codec.StatusOK {
		h.refuse(s, r, st)
	} else {
		if c := h.committer(); c != nil {
			req.Written = c.Written()
		}
		switch {
		case req.Hold != nil && sc.collect:
			h.acks.unreserve(1 - len(sc.hands)) // a kept message keeps its slot until Release
			req.Hold.keep(sc.hands, req.Written)
		case !h.acks.deferHands(sc.hands, 1, 0):
			h.handNow(sc)
		}
	}
	sc.clear()
	h.scratch.Put(sc)
	return st, r
}

// WaitDurable blocks until the store's writes up to pos (the largest
// DirectRequest.Written of a request's submits) are durable (the store's
// Committer, when the hub's Messages is a storage.Store); at once when they
// are, or the store is not durable. Call it after a request's SubmitDirect
// calls and before answering: the answer then promises what an SMPP answer
// promises. An error is the store's (a failed device): the messages were
// accepted but may not survive a crash.
func (h *Hub) WaitDurable(pos uint64) error {
	c := h.committer()
	if c == nil || pos <= c.Committed() {
		return nil
	}
	return c.WaitCommitted(pos)
}

// committer is the store's Committer, nil for a store that has none.
func (h *Hub) committer() storage.Committer {
	if s, ok := h.msgs.(interface{ Committer() storage.Committer }); ok {
		return s.Committer()
	}
	return nil
}

// Quote is what routing decides for a message now (Jasmin's /rate): the
// route that matches it, the connector it would go to and the route's rate
// per part.
type Quote struct {
	Route     string
	Connector string
	Rate      float64
}

// Quote routes sm for u as a submit at now would be routed (the user's
// default source when sm has none), without admitting or sending anything;
// false when no route matches.
func (h *Hub) Quote(u *accounts.User, sm *codec.SM, now time.Time) (Quote, bool) {
	src := sm.SourceAddr
	if len(src) == 0 && u.DefaultSource != "" {
		src = []byte(u.DefaultSource)
	}
	content := sm.ShortMessage
	if v, ok := sm.TLVs.Get(codec.TagMessagePayload); ok {
		content = v
	}
	mt := routing.MT{User: u.SystemID, Group: u.Group, Source: src, Dest: sm.DestinationAddr, Content: content,
		DataCoding: sm.DataCoding, Now: now}
	d, ok := h.router.Load().RouteMT(&mt, &h.up)
	if !ok {
		return Quote{}, false
	}
	q := Quote{Rate: d.Rate}
	if d.Route != nil {
		q.Route = d.Route.Name
	}
	q.Connector = h.ConnectorName(d.Connector)
	return q, true
}

// ConnectorName is the name of connector id (a Record's Connector), "" for
// an id the hub does not have.
func (h *Hub) ConnectorName(id int) string {
	s := h.cs()
	if !s.has(id) {
		return ""
	}
	return s.conns[id].Name()
}
