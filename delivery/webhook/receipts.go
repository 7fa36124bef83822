package webhook

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/receipt"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Receipt callbacks: a message submitted over HTTP with a dlr-url has a
// storage.Callback. The upstream's answer to the submit (Answer, from the
// hub's Sink.Accepted and Sink.Failed) makes the level-1 callback and the
// final state (Final, from the delivery side's receipt path) the level-2
// one; level 3 makes both, in whichever order they come (a receipt may
// overtake the answer): Callback.Done records the one made, and the
// callback is deleted once every level asked is made. The parameters are
// Jasmin's:
//
//	level 1:      id, message_status (the submit_sm_resp status, ESME_ROK),
//	              level (as asked: 1 or 3), connector
//	level 2 or 3: those, message_status being the receipt's stat (DELIVRD),
//	              and id_smsc, sub, dlvrd, subdate and donedate
//	              (YYMMDDhhmm, Options.ReceiptZone), err, text (the first
//	              20 characters)
//
// The user's callback_secret (UserSecret) signs them when set.

// Answer is the upstream's answer to an MT: status 0 (ESME_ROK) from
// Sink.Accepted with the upstream's id, or the refusal status from
// Sink.Failed. systemID owns the message; connector is its routing table
// id. For a message without a callback it costs one lookup.
func (s *Service) Answer(id msg.ID, systemID string, connector int, status uint32, upstreamID []byte) {
	cbs := s.opts.Callbacks
	if cbs == nil || s.noCallbacks() {
		return
	}
	cb := cbPool.Get().(*storage.Callback)
	defer cbPool.Put(cb)
	if err := cbs.Callback(id, cb); err != nil {
		return
	}
	if cb.Level&storage.CallbackFinal != 0 && len(upstreamID) > 0 && s.opts.UpstreamIDs != nil {
		// id_smsc of the final callback; a connector that forwards cancel_sm
		// keeps it already, writing it again changes nothing.
		if err := s.opts.UpstreamIDs.PutUpstreamOf(id, upstreamID); err != nil && !errors.Is(err, storage.ErrBadUpstreamID) {
			s.noteStore(err, "upstream_id", s.now())
		}
	}
	if cb.Level&storage.CallbackAccepted == 0 || cb.Done&storage.CallbackAccepted != 0 {
		return
	}
	v := url.Values{}
	v.Set("id", string(id.AppendHex(nil)))
	v.Set("message_status", codec.Status(status).String())
	v.Set("level", strconv.Itoa(int(cb.Level)))
	v.Set("connector", s.connectorName(connector))
	s.enqueueReceipt(cb, systemID, v)
	s.markDone(cb, storage.CallbackAccepted)
}

// callbackCounter is a storage.Callbacks that counts what it keeps (the
// memory store's). Every MT's answer asks for its callback; with none kept
// that is one load, not a trip through cbPool (1.2% of smppd's CPU at
// 4 x 100).
type callbackCounter interface {
	CallbackCount() int64
}

// noCallbacks reports whether Options.Callbacks tells it keeps none.
func (s *Service) noCallbacks() bool {
	return s.cbCount != nil && s.cbCount.CallbackCount() == 0
}

// cbPool holds the callbacks the hooks read into: a lookup through the
// storage.Callbacks interface would otherwise allocate one per message.
var cbPool = sync.Pool{New: func() any { return new(storage.Callback) }}

// Final is a message's final state, from the delivery side's receipt path
// (a receipt, or an MT that failed here): rec is its Record (read during
// the call only), errCode the receipt's err:, done its Unix ns (0 = now).
func (s *Service) Final(rec *storage.Record, st msg.State, errCode uint16, done int64) {
	cbs := s.opts.Callbacks
	if cbs == nil || s.noCallbacks() {
		return
	}
	cb := cbPool.Get().(*storage.Callback)
	defer cbPool.Put(cb)
	if err := cbs.Callback(rec.ID, cb); err != nil {
		return
	}
	if cb.Level&storage.CallbackFinal == 0 || cb.Done&storage.CallbackFinal != 0 {
		return
	}
	if done == 0 {
		done = s.now().UnixNano()
	}
	v := url.Values{}
	v.Set("id", string(rec.ID.AppendHex(nil)))
	var up []byte
	if s.opts.UpstreamIDs != nil {
		up, _ = s.opts.UpstreamIDs.UpstreamOf(rec.ID, nil)
	}
	v.Set("id_smsc", string(up))
	v.Set("message_status", receipt.Stat(st).String())
	v.Set("level", strconv.Itoa(int(cb.Level)))
	v.Set("connector", s.connectorName(int(rec.Connector)))
	v.Set("sub", "001")
	dlvrd := "000"
	if st == msg.StateDelivered {
		dlvrd = "001"
	}
	v.Set("dlvrd", dlvrd)
	v.Set("subdate", string(receipt.AppendDate(nil, time.Unix(0, rec.Submitted).In(s.zone), false)))
	v.Set("donedate", string(receipt.AppendDate(nil, time.Unix(0, done).In(s.zone), false)))
	v.Set("err", fmt.Sprintf("%03d", errCode))
	v.Set("text", textPrefix(rec))
	s.enqueueReceipt(cb, rec.SystemID, v)
	s.markDone(cb, storage.CallbackFinal)
}

// enqueueReceipt sends a receipt callback (a refusal is counted and
// logged by Enqueue).
func (s *Service) enqueueReceipt(cb *storage.Callback, systemID string, v url.Values) {
	r := Request{Kind: KindReceipt, Method: cb.Method, URL: cb.URL, AckBody: s.opts.ReceiptAckBody, SystemID: systemID,
		ID: cb.ID, Params: []byte(v.Encode())}
	if systemID != "" {
		r.SecretRef = UserSecret(systemID)
	}
	_ = s.Enqueue(&r)
}

// markDone records that level's callback is made: the callback goes
// once every level asked is.
func (s *Service) markDone(cb *storage.Callback, level uint8) {
	cb.Done |= level
	var err error
	if cb.Level&^cb.Done == 0 {
		err = s.opts.Callbacks.DeleteCallback(cb.ID)
	} else {
		err = s.opts.Callbacks.PutCallback(cb)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.noteStore(err, "callback", s.now())
	}
}

func (s *Service) connectorName(id int) string {
	if s.opts.ConnectorName != nil {
		if n := s.opts.ConnectorName(id); n != "" {
			return n
		}
	}
	return strconv.Itoa(id)
}

// textPrefix is the text: parameter: the record's stored text prefix
// decoded to UTF-8 (binary codings as '?'), at most 20 characters.
func textPrefix(rec *storage.Record) string {
	b, err := charset.Decode(nil, rec.DataCoding, rec.TextPrefix())
	if err != nil {
		b = []byte(sanitize(rec.TextPrefix()))
	}
	if utf8.RuneCount(b) > storage.MaxText {
		n, i := 0, 0
		for i < len(b) && n < storage.MaxText {
			_, w := utf8.DecodeRune(b[i:])
			i += w
			n++
		}
		b = b[:i]
	}
	return string(b)
}

// sanitize replaces what is not printable ASCII with '?'.
func sanitize(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '?'
		}
		out[i] = c
	}
	return string(out)
}
