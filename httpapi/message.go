package httpapi

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// A message as /send and POST /v1/messages state it, once its parameters
// passed their checks: what the user may send (rights), the content in its
// coding and its parts, then one flow.DirectRequest per part.

// message is one validated message, ready for the hub.
type message struct {
	to, from []byte
	coding   byte
	payload  []byte // the content in its coding
	parts    int
	priority uint8
	sdt      []byte // schedule_delivery_time as given; nil = none
	validity []byte // validity_period (absolute); nil = none
	expires  int64  // the validity's end (Unix ns), 0 = none
	regDlv   uint8  // registered_delivery of the last part
	cb       *storage.Callback
	tlvs     []customTLV
}

// customTLV is one of the request's custom_tlvs, encoded.
type customTLV struct {
	tag uint16
	val []byte
}

// maxValidityMinutes bounds validity-period: ten years, beyond which an
// absolute SMPP time's two-digit year would wrap.
const maxValidityMinutes = 10 * 365 * 24 * 60

// msgState is a message's working memory from its parameters to its answer,
// pooled: the parameters, the message and its buffers and the ids of
// its parts are reused, so /send and each message of a batch allocate
// little besides what net/http does.
type msgState struct {
	p   params
	m   message
	ids []msg.ID
	ans successBuf // /send's answer
}

var statePool = sync.Pool{New: func() any { return new(msgState) }}

// getOne takes a cleared msgState from the pool.
func getOne() *msgState { return statePool.Get().(*msgState) }

// release clears o (the next request must see nothing of this one) and
// pools it. Nothing of o may be used after.
func (o *msgState) release() {
	o.p.reset()
	m := &o.m
	payload := m.payload[:0]
	if cap(payload) > maxPooledPayload {
		payload = nil
	}
	*m = message{to: m.to[:0], from: m.from[:0], payload: payload}
	if cap(o.ids) > maxPooledIDs {
		o.ids = nil
	}
	statePool.Put(o)
}

// What a pooled msgState keeps at most: the buffers of a request far
// beyond the usual are let go, so the pool holds no large ones.
const (
	maxPooledIDs     = 32
	maxPooledPayload = 4 << 10
)

// build turns checked parameters into the message m for u, refusing what
// u may not do (Jasmin's authorization checks, in Jasmin's order) and
// content that needs more parts than allowed. m is empty (its buffers kept).
func (s *Server) build(u *accounts.User, p *params, m *message, now time.Time) *failure {
	if !u.May(accounts.RightHTTPSend) {
		return notAuthorized(u, "Cannot send MT messages")
	}
	dlr := p.value(pDLR) == "yes"
	if dlr && !u.Receipts {
		return notAuthorized(u, "Setting dlr level not authorized")
	}
	if p.given(pDLRMethod) && !u.May(accounts.RightHTTPSetDLRMethod) {
		return notAuthorized(u, "Setting dlr method not authorized")
	}
	hexContent, isHex := p.get(pHexContent)
	text, isText := p.get(pContent)
	switch {
	case !isHex && !isText:
		return badRequest("content or hex-content not present.")
	case isHex && isText:
		return badRequest("content and hex-content cannot be used both in same request.")
	case isHex && !u.May(accounts.RightSetHexContent):
		return notAuthorized(u, "Setting hex content not authorized")
	}
	if p.given(pSDT) && !u.May(accounts.RightSetScheduleDelivery) {
		return notAuthorized(u, "Setting schedule delivery time not authorized")
	}
	coding, _ := strconv.Atoi(p.value(pCoding))
	m.coding = byte(coding)
	if isHex {
		b, err := decodeHexInto(m.payload, hexContent)
		if err != nil {
			return badRequest("Invalid hex-content data: '" + clip(hexContent) + "'")
		}
		m.payload = b
	} else {
		m.payload, _ = content.Encode(m.payload, m.coding, text)
	}
	n, err := content.Count(m.payload, m.coding)
	if err != nil {
		return badRequest("The content cannot be cut into SMS parts.")
	}
	if n > 1 && !u.May(accounts.RightHTTPLongContent) {
		return notAuthorized(u, "Long content not authorized")
	}
	if n > s.o.MaxParts {
		return badRequest("Content needs " + strconv.Itoa(n) + " parts, more than long_content_max_parts (" +
			strconv.Itoa(s.o.MaxParts) + ").")
	}
	m.parts = n
	m.to = append(m.to, p.value(pTo)...)
	if from, ok := p.get(pFrom); ok {
		if len(from) > maxAddr || !msg.NoControl(from) {
			return badRequest("Argument [from] has an invalid value: [" + clip(from) + "].")
		}
		m.from = append(m.from, from...)
	}
	if v, ok := p.get(pPriority); ok {
		m.priority = v[0] - '0'
	}
	if v, ok := p.get(pSDT); ok {
		m.sdt = []byte(v)
	}
	if v, ok := p.get(pValidity); ok {
		mins, err := strconv.Atoi(v)
		if err != nil || mins > maxValidityMinutes {
			return badRequest("Argument [validity-period] has an invalid value: [" + clip(v) + "].")
		}
		end := now.Add(time.Duration(mins) * time.Minute)
		m.validity, m.expires = codec.AppendAbsoluteTime(nil, end.UTC()), end.UnixNano()
	}
	if f := s.dlr(u, m, p, dlr); f != nil {
		return f
	}
	if f := m.customTLVs(p); f != nil {
		return f
	}
	return nil
}

// dlr sets registered_delivery and the callback: a dlr-url is kept for
// the last part's id with its level and method. A receipt is asked of the
// upstream (registered_delivery 1, on the last part only, as Jasmin) for
// dlr-level 2 or 3, and for dlr = yes without a dlr-url (the receipt then
// goes to the user's SMPP receivers); level 1 alone needs only the
// upstream's answer. A dlr-url whose host is an address DLRGuard denies
// is refused here, so the customer learns it at once.
func (s *Server) dlr(u *accounts.User, m *message, p *params, dlr bool) *failure {
	if !dlr {
		return nil
	}
	level := 1
	if v, ok := p.get(pDLRLevel); ok {
		level = int(v[0] - '0')
	}
	url, hasURL := p.get(pDLRURL)
	if !hasURL || level >= 2 {
		m.regDlv = 1 // SMSC delivery receipt requested (SMPP 3.4 §5.2.17)
	}
	if !hasURL {
		return nil
	}
	if s.o.Callbacks == nil {
		return badRequest("dlr-url is not supported by this server.")
	}
	if err := s.checkURL(url); err != nil {
		if ok, dropped := s.ssrf.Allow(s.now().UnixNano()); ok {
			s.log.Warn().Str("event", "http_dlr_url_denied").Str("system_id", u.SystemID).Str("detail", err.Error()).
				Uint64("suppressed", dropped).Msg("dlr-url refused: its address is not allowed")
		}
		return badRequest("Argument [dlr-url] has an invalid value: [" + clip(url) + "] (address not allowed).")
	}
	// The URL outlives the request, whose query or body it is a view of.
	cb := &storage.Callback{URL: strings.Clone(url), Level: uint8(level), Method: storage.CallbackPOST, Expires: m.expires}
	if p.value(pDLRMethod) == "GET" {
		cb.Method = storage.CallbackGET
	}
	m.cb = cb
	return nil
}

// decodeHexInto appends the octets of hex digits s to dst.
func decodeHexInto(dst []byte, s string) ([]byte, error) { return hex.AppendDecode(dst, []byte(s)) }

// checkURL applies DLRGuard, when there is one.
func (s *Server) checkURL(url string) error {
	if s.o.DLRGuard == nil {
		return nil
	}
	return s.o.DLRGuard.CheckURL(url)
}

// Custom TLVs (Jasmin 0.12's custom_tlvs): a JSON list of [tag, length,
// type, value] (or [tag, type, value], or [tag, value]), tags in the
// vendor range; type Int1, Int2, Int4, Int8, COctetString or OctetString
// (null or absent: the value's UTF-8 octets). From a query or form the
// parameter's value is that JSON text.
const (
	minVendorTag  = 0x1400 // SMPP 3.4 §5.3.2: 0x1400-0x3FFF are vendor specific
	maxVendorTag  = 0x3FFF
	maxCustomTLVs = 16
	maxTLVValue   = 1024
)

func (m *message) customTLVs(p *params) *failure {
	raw := p.tlvs
	if raw == nil {
		v, ok := p.get(pCustomTLVs)
		if !ok || v == "" {
			return nil
		}
		raw = json.RawMessage(v)
	}
	bad := badRequest("Argument [custom_tlvs] has an invalid value: a JSON list of [tag, length, type, value] with vendor-range tags (0x1400-0x3FFF), at most 16.")
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var list [][]any
	if err := dec.Decode(&list); err != nil || len(list) > maxCustomTLVs {
		return bad
	}
	for _, item := range list {
		t, ok := encodeTLV(item)
		if !ok {
			return bad
		}
		m.tlvs = append(m.tlvs, t)
	}
	return nil
}

// encodeTLV encodes one custom_tlvs entry as Jasmin's encoder does.
func encodeTLV(item []any) (customTLV, bool) {
	var tagV, typV, val any
	switch len(item) {
	case 4:
		tagV, typV, val = item[0], item[2], item[3]
	case 3:
		tagV, typV, val = item[0], item[1], item[2]
	case 2:
		tagV, val = item[0], item[1]
	default:
		return customTLV{}, false
	}
	n, ok := tagV.(json.Number)
	if !ok {
		return customTLV{}, false
	}
	tag, err := strconv.ParseUint(n.String(), 10, 16)
	if err != nil || tag < minVendorTag || tag > maxVendorTag {
		return customTLV{}, false
	}
	typ := ""
	if typV != nil {
		if typ, ok = typV.(string); !ok {
			return customTLV{}, false
		}
	}
	var text string
	switch v := val.(type) {
	case string:
		text = v
	case json.Number:
		text = v.String()
	default:
		return customTLV{}, false
	}
	var b []byte
	switch typ {
	case "Int1", "Int2", "Int4", "Int8":
		size := map[string]int{"Int1": 1, "Int2": 2, "Int4": 4, "Int8": 8}[typ]
		x, err := strconv.ParseUint(text, 10, size*8)
		if err != nil {
			return customTLV{}, false
		}
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], x)
		b = append(b, buf[8-size:]...)
	case "COctetString":
		b = append([]byte(text), 0)
	case "OctetString", "":
		b = []byte(text)
	default:
		return customTLV{}, false
	}
	if len(b) > maxTLVValue {
		return customTLV{}, false
	}
	return customTLV{tag: uint16(tag), val: b}, true
}

// outcome is what became of one message: every part's id and the id
// reported (the last part's), or the failure.
type outcome struct {
	ids     []msg.ID
	id      msg.ID
	written uint64 // the store's position after the last part (Hub.WaitDurable)
	fail    *failure
}

// submit hands m's parts to the hub in order: the first admits and pays
// for the whole message, so a refusal there leaves nothing queued; only the
// last asks for a receipt, and its id carries the callback (put before any
// part is submitted, so no connector can report before it is there).
// The accepted parts wait in hold until the caller has answered and
// released it (Server.release): a receipt callback then cannot overtake
// the answer. The outcome's ids are o1's: read them before releasing o1.
func (s *Server) submit(u *accounts.User, o1 *msgState, hold *flow.DirectHold, now time.Time) outcome {
	m := &o1.m
	sc := scratchPool.Get().(*submitScratch)
	defer sc.release()
	parts, _, _, err := content.Split(sc.parts[:0], sc.udh[:0], m.payload, m.coding, s.o.Split, s.o.MaxParts)
	if err != nil {
		return outcome{fail: badRequest("The content cannot be cut into SMS parts.")}
	}
	ids := slices.Grow(o1.ids[:0], len(parts))[:len(parts)]
	o1.ids = ids
	for i := range ids {
		ids[i] = s.o.Hub.NextID()
	}
	last := ids[len(ids)-1]
	if m.cb != nil {
		m.cb.ID = last
		if err := s.o.Callbacks.PutCallback(m.cb); err != nil {
			s.warn("callback", err)
			return outcome{fail: internal("The dlr-url could not be stored: retry later", true)}
		}
	}
	sm, short, req := &sc.sm, &sc.short, &sc.req
	for i := range parts {
		p := &parts[i]
		sm.Reset()
		sm.SourceAddrTON, sm.SourceAddrNPI = addrType(m.from)
		sm.SourceAddr = m.from
		sm.DestAddrTON, sm.DestAddrNPI, sm.DestinationAddr = 1, 1, m.to // international, ISDN
		sm.PriorityFlag, sm.DataCoding = m.priority, m.coding
		sm.ScheduleDeliveryTime, sm.ValidityPeriod = m.sdt, m.validity
		k := copy(short[:], p.UDH)
		k += copy(short[k:], p.Body)
		sm.ShortMessage = short[:k]
		if p.UDH != nil {
			sm.ESMClass |= codec.ESMClassUDHI
		}
		if len(parts) > 1 && s.o.Split == content.SAR {
			sm.TLVs.AddUint16(codec.TagSarMsgRefNum, p.Ref)
			sm.TLVs.AddUint8(codec.TagSarTotalSegments, p.Total)
			sm.TLVs.AddUint8(codec.TagSarSegmentSeqnum, p.Seq)
		}
		for _, t := range m.tlvs {
			sm.TLVs.Add(codec.Tag(t.tag), t.val)
		}
		if i == len(parts)-1 {
			sm.RegisteredDelivery = m.regDlv
		}
		*req = flow.DirectRequest{User: u, SM: sm, ID: ids[i], Now: now, Quiet: true, Hold: hold}
		if len(parts) > 1 {
			if i == 0 {
				req.Parts = len(parts)
			} else {
				req.Follows = true
			}
		}
		st, r := s.o.Hub.SubmitDirect(req)
		if r == flow.RefuseQueueFull && st != codec.StatusOK {
			st, r = s.waitForRoom(req)
		}
		if st != codec.StatusOK {
			if m.cb != nil {
				_ = s.o.Callbacks.DeleteCallback(last)
			}
			if i > 0 {
				s.log.Warn().Str("event", "http_partial_message").Str("system_id", u.SystemID).
					Int("queued_parts", i).Int("parts", len(parts)).Str("reason", r.String()).
					Msg("a later part of a long message was refused after its first parts were queued")
			}
			s.stats.refused.Add(1)
			return outcome{fail: refusal(r, st, u)}
		}
	}
	s.stats.messages.Add(1)
	s.stats.parts.Add(uint64(len(parts)))
	return outcome{ids: ids, id: last, written: req.Written}
}

// waitForRoom submits req again while every queue it could go to is full,
// for up to QueueFullWait, as an SMPP session waits for room: the
// connectors are woken first (parts queued quietly would not drain), then
// each try waits twice as long as the last, from 200µs to 10ms.
func (s *Server) waitForRoom(req *flow.DirectRequest) (codec.Status, flow.Refusal) {
	deadline := time.Now().Add(s.o.QueueFullWait)
	pause := 200 * time.Microsecond
	for {
		s.o.Hub.EndTurn()
		if !time.Now().Add(pause).Before(deadline) {
			return codec.StatusMsgQFul, flow.RefuseQueueFull
		}
		time.Sleep(pause)
		pause = min(2*pause, 10*time.Millisecond)
		st, r := s.o.Hub.SubmitDirect(req)
		if st == codec.StatusOK || r != flow.RefuseQueueFull {
			return st, r
		}
	}
}

// holdPool keeps the requests' flow.DirectHolds: a batch's holds a
// thousand messages, reused.
var holdPool = sync.Pool{New: func() any { return new(flow.DirectHold) }}

// release hands over what hold kept and pools it: answered once the
// request's success (every message durable) is flushed to the client, so
// no receipt callback can precede it; otherwise the messages go at the
// commit that covers them (flow.Hub.Release).
func (s *Server) release(w http.ResponseWriter, hold *flow.DirectHold, answered bool) {
	if answered {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	s.o.Hub.Release(hold, answered)
	holdPool.Put(hold)
}

// submitScratch is one message's working memory in submit, pooled: a
// batch submits a thousand messages, and each would otherwise allocate
// its submit_sm, buffers and request (they reach the hub, so they escape).
type submitScratch struct {
	sm    codec.SM
	req   flow.DirectRequest
	short [content.MaxShort]byte
	udh   [8 * 6]byte
	parts [8]content.Part
}

var scratchPool = sync.Pool{New: func() any { return new(submitScratch) }}

// release drops the views into the request's buffers and pools sc.
func (sc *submitScratch) release() {
	sc.sm.Reset()
	sc.req = flow.DirectRequest{}
	clear(sc.parts[:])
	scratchPool.Put(sc)
}

// addrType is the TON and NPI of a source address: international ISDN for
// digits (a leading '+' allowed), alphanumeric otherwise, none when empty.
func addrType(a []byte) (ton, npi uint8) {
	switch {
	case len(a) == 0:
		return 0, 0
	case digits(strings.TrimPrefix(string(a), "+")):
		return 1, 1
	}
	return 5, 0
}

// warn logs a store or internal error, throttled.
func (s *Server) warn(op string, err error) {
	if ok, dropped := s.warns.Allow(s.now().UnixNano()); ok {
		s.log.Warn().Str("event", "http_api_error").Str("op", op).Err(err).Uint64("suppressed", dropped).
			Msg("HTTP API: store error")
	}
}
