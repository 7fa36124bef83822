package delivery

import (
	"errors"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/concat"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// MO implements connector.Sink's half for MO: delivered, held or waiting
// as InjectMO says. An MO no one can take (no route, an unknown user, not
// encodable) is kept as a dead letter and answered nil, so its upstream
// does not resend it forever; an error means it could not be kept (the
// hold store full or failing): the upstream is asked to resend it.
func (h *Service) MO(mo *msg.Inbound) error {
	err := h.deliverMO(mo)
	if errors.Is(err, ErrUnknownUser) || errors.Is(err, ErrNoMORoute) || errors.Is(err, ErrBadMO) {
		return h.deadLetter(storage.HeldMO, -1, mo.SystemID, 0, err.Error()+" (connector "+mo.Connector+")", mo.Raw)
	}
	return err
}

// InjectMO delivers an operator's MO (the admin API's POST /v1/mo): with
// in.SystemID set it goes to that user, otherwise through the MO routes.
// It returns ErrUnknownUser or ErrNoMORoute when there is no target (the
// MO is counted as unroutable), ErrBadMO when it cannot be encoded,
// storage.ErrHeldFull when it had to be dropped because the hold store (or
// the backlog waiting for busy ESMEs) is full, and nil once the MO is
// delivered, held, waiting for room or waiting for its other parts. A
// zero in.Received is set to now. Views in in are read during the call only.
func (h *Service) InjectMO(in *msg.Inbound) error {
	if in.Received == 0 {
		in.Received = h.now().UnixNano()
	}
	return h.deliverMO(in)
}

// deliverMO routes an MO to its user, reassembles it when configured, and
// dispatches the deliver_sm.
func (h *Service) deliverMO(in *msg.Inbound) error {
	now := h.now()
	user, push, err := h.moTarget(in, now)
	if err != nil {
		h.stats.moUnroutable.Add(1)
		if e := h.event(&h.warn.unroutable, zerologWarn); e != nil {
			var src, dst [storage.MaxAddr]byte
			e.Str("connector", in.Connector).Str("system_id", in.SystemID).Bytes("source", h.logAddr(src[:0], in.Source)).
				Bytes("dest", h.logAddr(dst[:0], in.Dest)).Err(err).Uint64("unroutable_total", h.stats.moUnroutable.Load()).
				Msg("MO has no target user: not delivered (a connector's is kept as a dead letter)")
		}
		return err
	}
	e := h.getEncoder()
	if push != "" {
		err = h.pushMO(e, in, push, now)
	} else {
		err = h.encodeMO(e, in, user, now)
	}
	h.putEncoder(e)
	return err
}

// encodeMO reassembles (when configured) and dispatches an MO for user.
func (h *Service) encodeMO(e *encoder, in *msg.Inbound, user string, now time.Time) error {
	if h.opts.ReassembleMO {
		if done, err := h.mo.add(h, e, in, user, false, now); done {
			return err
		}
	}
	it := h.newItem(user, storage.HeldMO, 0, now)
	if err := e.mo(it, in, nil); err != nil {
		return h.moEncodeFailed(it, user, err)
	}
	return h.sendMO(it, now)
}

// sendMO dispatches an encoded MO, kept in the hold store first with
// Options.Durable.
func (h *Service) sendMO(it *item, now time.Time) error {
	if h.opts.Durable {
		if err := h.keep(it, nil); err != nil {
			h.items.put(it)
			return err
		}
	}
	if h.dispatchRefusable(it, now) == dropped {
		return storage.ErrHeldFull
	}
	return nil
}

// moTarget returns the user an MO is for, or the name of the route that
// sends it to a URL (push).
func (h *Service) moTarget(in *msg.Inbound, now time.Time) (user, push string, err error) {
	user = in.SystemID
	if user == "" {
		content := in.ShortMessage
		if len(content) == 0 {
			content, _ = msg.FindTLV(in.TLVs, uint16(codec.TagMessagePayload))
		}
		var ok bool
		if h.opts.Routes != nil {
			user, push, ok = h.opts.Routes.RouteMO(in, content, now)
		}
		if !ok || push != "" && h.opts.Pushes == nil {
			return "", "", ErrNoMORoute
		}
		if push != "" {
			return "", push, nil
		}
	}
	if h.users != nil && !h.users.Known(user) {
		return "", "", ErrUnknownUser
	}
	return user, "", nil
}

func (h *Service) moEncodeFailed(it *item, user string, err error) error {
	h.stats.failedPermanent.Add(1)
	if e := h.event(&h.warn.encode, zerologError); e != nil {
		e.Str("system_id", user).Err(err).Msg("MO cannot be encoded as deliver_sm: dropped")
	}
	h.items.put(it)
	return errors.Join(ErrBadMO, err)
}

// mo encodes in as a deliver_sm into it. With whole set, whole is the
// reassembled text: the UDHI bit and the sar_* TLVs go, and the text
// travels in short_message up to 254 octets, else in message_payload.
// Otherwise the MO passes through as it came (a short_message over 254
// octets, possible from an operator, moves to message_payload).
func (e *encoder) mo(it *item, in *msg.Inbound, whole []byte) error {
	if err := e.moSM(in, whole); err != nil {
		return err
	}
	return it.setBody(&e.sm)
}

// moSM fills e.sm with in as mo encodes it.
func (e *encoder) moSM(in *msg.Inbound, whole []byte) error {
	p := &e.sm
	p.Reset()
	p.ServiceType = in.ServiceType
	p.SourceAddrTON, p.SourceAddrNPI, p.SourceAddr = in.SourceTON, in.SourceNPI, in.Source
	p.DestAddrTON, p.DestAddrNPI, p.DestinationAddr = in.DestTON, in.DestNPI, in.Dest
	p.ESMClass, p.ProtocolID, p.PriorityFlag, p.DataCoding = in.ESMClass, in.ProtocolID, in.Priority, in.DataCoding
	text := in.ShortMessage
	if whole != nil {
		p.ESMClass &^= codec.ESMClassUDHI
		text = whole
		copyTLVsExcept(&p.TLVs, in.TLVs, codec.TagMessagePayload, codec.TagSarMsgRefNum, codec.TagSarTotalSegments, codec.TagSarSegmentSeqnum)
	} else if len(in.TLVs) > 0 {
		if err := p.TLVs.SetRaw(in.TLVs); err != nil {
			return err
		}
	}
	if len(text) > codec.MaxShortMessage {
		if p.TLVs.HasMessagePayload() {
			return codec.ErrSMAndPayload
		}
		p.TLVs.Add(codec.TagMessagePayload, text)
		text = nil
	}
	p.ShortMessage = text
	return nil
}

// copyTLVsExcept adds every TLV of the encoded region raw to dst except
// those with the given tags.
func copyTLVsExcept(dst *codec.TLVs, raw []byte, skip ...codec.Tag) {
next:
	for b := raw; len(b) >= 4; {
		l := int(b[2])<<8 | int(b[3])
		if 4+l > len(b) {
			return
		}
		tag, val := codec.Tag(b[0])<<8|codec.Tag(b[1]), b[4:4+l]
		b = b[4+l:]
		for _, s := range skip {
			if tag == s {
				continue next
			}
		}
		dst.Add(tag, val)
	}
}

// moKey names a concatenated MO: the target user (or, push, the URL
// route), the source address and (in the Reassembler's own key) the
// reference.
type moKey struct {
	user string
	push bool
	n    uint8
	src  [maxMOAddr]byte
}

// maxMOAddr is the longest source address kept in a key (data_sm's 65
// octets with the NUL); longer ones are not reassembled.
const maxMOAddr = 64

// moAssembler is the MO Reassembler behind a mutex (connectors report MO
// concurrently; the Reassembler has one owner at a time).
type moAssembler struct {
	mu   sync.Mutex
	r    *concat.Reassembler[moKey]
	h    *Service
	keys partKeys // held copies of the parts (Options.Durable; moparts.go)
}

func (a *moAssembler) init(h *Service) {
	a.h = h
	// Always: MO routed to a URL are joined whatever ReassembleMO says.
	a.r = concat.New(concat.Config{Timeout: h.opts.ReassemblyTimeout}, a.dropped)
}

// dropped runs inside a Reassembler call for every incomplete MO that
// leaves it (timeout or eviction).
func (a *moAssembler) dropped(d *concat.Dropped[moKey]) {
	h := a.h
	if keys := a.keys.take(partSet{d.Key, d.Ref}); keys != nil {
		h.ackParts(keys)
		a.keys.put(keys)
	}
	h.stats.moIncomplete.Add(1)
	if e := h.event(&h.warn.incomplete, zerologWarn); e != nil {
		var src [storage.MaxAddr]byte
		e.Str("system_id", d.Key.user).Bytes("source", h.logAddr(src[:0], d.Key.src[:d.Key.n])).Uint16("ref", d.Ref).
			Int("received", d.Received).Uint8("total", d.Total).Str("reason", d.Reason.String()).
			Uint64("incomplete_total", h.stats.moIncomplete.Load()).Msg("incomplete concatenated MO dropped")
	}
}

// expire drops incomplete MO past the timeout (background goroutine).
func (a *moAssembler) expire(now time.Time) {
	if a.r == nil {
		return
	}
	a.mu.Lock()
	a.r.Expire(now)
	a.mu.Unlock()
}

// add offers in to the Reassembler when it is a part. done reports that
// the MO was handled here (kept for its other parts, dropped as a
// duplicate, or completed and dispatched); otherwise the caller passes it
// through as it is. With Options.Durable a part is held in the store
// first (moparts.go): an error then means it is not kept.
func (a *moAssembler) add(h *Service, e *encoder, in *msg.Inbound, user string, push bool, now time.Time) (done bool, err error) {
	var pk storage.HeldKey
	if h.opts.Durable {
		if seg, _, ok := moSegment(in); ok && seg.Total > 1 && len(in.Source) <= maxMOAddr {
			received := in.Received
			if received == 0 {
				received = now.UnixNano()
			}
			if pk, err = h.holdPart(e, in, user, push, received); err != nil {
				if errors.Is(err, ErrBadMO) {
					return false, nil // not encodable: the caller's pass-through says so
				}
				return true, err
			}
		}
	}
	return a.join(h, e, in, user, push, pk, now)
}

// join offers a part, held under pk (0: not held), to the Reassembler at
// now; done and err as add.
func (a *moAssembler) join(h *Service, e *encoder, in *msg.Inbound, user string, push bool, pk storage.HeldKey, now time.Time) (done bool, err error) {
	seg, body, ok := moSegment(in)
	if !ok || len(in.Source) > maxMOAddr {
		a.dropPart(pk)
		return false, nil
	}
	key := moKey{user: user, push: push, n: uint8(len(in.Source))}
	copy(key.src[:], in.Source)
	set := partSet{key, seg.Ref}
	a.mu.Lock()
	m, complete, aerr := a.r.Add(now, key, seg, body)
	switch {
	case aerr == nil && !complete:
		a.keys.add(set, pk)
		a.mu.Unlock()
		return true, nil
	case aerr == nil:
		return a.complete(h, e, in, user, push, pk, set, seg, &m, now)
	case errors.Is(aerr, concat.ErrDuplicate):
		a.mu.Unlock()
		a.dropPart(pk)
		return true, nil // a resent part: the first copy counts
	}
	a.mu.Unlock()
	a.dropPart(pk)
	return false, nil // the part cannot join its set: deliver it as it is
}

// complete sends the MO m the part seg completed (mu held, released
// here). The whole MO is kept (or pushed) before the parts' held copies
// go; when it cannot be, the other parts go back into the Reassembler and
// stay held, and the error asks this part's upstream to send it again.
func (a *moAssembler) complete(h *Service, e *encoder, in *msg.Inbound, user string, push bool, pk storage.HeldKey,
	set partSet, seg concat.Segment, m *concat.Message[moKey], now time.Time) (bool, error) {
	keys := a.keys.take(set)
	if pk != 0 {
		keys = append(keys, pk)
	}
	var it *item
	var err error
	if push {
		err = h.opts.Pushes.PushMO(in, m.Body, user) // m.Body is valid until the next Reassembler call
	} else {
		it = h.newItem(user, storage.HeldMO, 0, now)
		if err = e.mo(it, in, m.Body); err != nil {
			a.mu.Unlock()
			h.ackParts(keys)
			a.keys.put(keys)
			return true, h.moEncodeFailed(it, user, err)
		}
		if h.opts.Durable {
			if err = h.keep(it, nil); err != nil {
				h.items.put(it)
			}
		}
	}
	if err != nil {
		a.refill(set, seg, m, keys)
		a.mu.Unlock()
		return true, err
	}
	a.mu.Unlock()
	h.ackParts(keys)
	a.keys.put(keys)
	if push {
		return true, nil
	}
	// The whole MO from here on is kept as one item. Its parts were
	// answered upstream as they came, held in the store (durable) or in
	// memory only.
	if h.dispatch(it, now) == dropped {
		return true, storage.ErrHeldFull
	}
	return true, nil
}

// refill puts every part of m but seg's back into the Reassembler, from
// the time m's first part came, with the held keys of the set (mu held):
// the part seg, which its upstream sends again, completes it again.
func (a *moAssembler) refill(set partSet, seg concat.Segment, m *concat.Message[moKey], keys []storage.HeldKey) {
	if keys != nil {
		// First: a set the re-adding drops (evicted) lets its copies go.
		if a.keys.sets == nil {
			a.keys.sets = make(map[partSet][]storage.HeldKey)
		}
		a.keys.sets[set] = keys
	}
	var parts [][]byte
	for q := uint8(1); q <= m.Total; q++ {
		if q != seg.Seq {
			parts = append(parts, append([]byte(nil), m.Part(q)...))
		}
	}
	i := 0
	for q := uint8(1); q <= m.Total; q++ {
		if q == seg.Seq {
			continue
		}
		_, _, _ = a.r.Add(m.First, set.key, concat.Segment{Ref: seg.Ref, Total: seg.Total, Seq: q}, parts[i])
		i++
	}
}

// dropPart lets a part's held copy go (it joined nothing, or duplicated
// one already held).
func (a *moAssembler) dropPart(pk storage.HeldKey) {
	if pk != 0 {
		a.h.noteStore(a.h.holds.Ack(pk), "ack_part", 0)
	}
}

// moSegment reports whether in is one part of a concatenated message (a
// UDH holding only a concatenation IE, or the sar_* TLVs) and returns its
// segment and its text without the UDH. A UDH with other IEs (ports, ...)
// is passed through untouched: joining would lose them.
func moSegment(in *msg.Inbound) (concat.Segment, []byte, bool) {
	content := in.ShortMessage
	if len(content) == 0 {
		content, _ = msg.FindTLV(in.TLVs, uint16(codec.TagMessagePayload))
	}
	if in.ESMClass&codec.ESMClassUDHI != 0 {
		udh, rest, err := concat.ParseUDH(content)
		if err != nil || !udh.HasConcat {
			return concat.Segment{}, nil, false
		}
		if l := udh.Len(); l != concat.Concat8UDHLen && l != concat.Concat16UDHLen {
			return concat.Segment{}, nil, false
		}
		return udh.Concat, rest, true
	}
	ref, _ := msg.FindTLV(in.TLVs, uint16(codec.TagSarMsgRefNum))
	total, _ := msg.FindTLV(in.TLVs, uint16(codec.TagSarTotalSegments))
	seq, _ := msg.FindTLV(in.TLVs, uint16(codec.TagSarSegmentSeqnum))
	seg, present, err := concat.ParseSAR(ref, total, seq)
	if !present || err != nil {
		return concat.Segment{}, nil, false
	}
	return seg, content, true
}
