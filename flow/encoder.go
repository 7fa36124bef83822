package flow

import (
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/storage"
)

// encoder is the pooled working memory of query_sm, cancel_sm and
// replace_sm, and of the receipt of a message failed here.
type encoder struct {
	rec storage.Record
	// cancel_sm and replace_sm passed upstream.
	upID   []byte
	cancel codec.CancelSM
	repl   codec.ReplaceSM
}

func (h *Hub) getEncoder() *encoder { return h.encs.Get().(*encoder) }

func (h *Hub) putEncoder(e *encoder) {
	e.cancel, e.repl = codec.CancelSM{}, codec.ReplaceSM{} // drop the views into the request
	h.encs.Put(e)
}

// errCodeOf turns an upstream command_status into the err: code of a
// receipt and query_sm_resp (kept whole in the Record; query_sm_resp's
// one octet takes the low byte's value capped at 255).
func errCodeOf(status uint32) uint16 { return uint16(min(status, 0xffff)) }
