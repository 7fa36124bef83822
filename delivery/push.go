package delivery

import (
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Pushes takes what goes to an HTTP endpoint instead of (or besides) an
// ESME: package delivery/webhook, wired by cmd/smppd. Both methods run on
// connector goroutines and must not block.
type Pushes interface {
	// Final reports a message's final state for its receipt callback (a
	// message submitted over HTTP with a dlr-url; for any other it costs
	// a lookup). rec is the message's Record, read during the call only.
	Final(rec *storage.Record, st msg.State, errCode uint16, done int64)
	// PushMO sends an MO whose route (named route) names a URL; whole is
	// the joined text of a concatenated MO, nil for a single one. An error
	// means the MO was not kept (neither queued nor kept as a dead
	// letter): the upstream is asked to send it again.
	PushMO(in *msg.Inbound, whole []byte, route string) error
}

// pushFinal hands a final state to Options.Pushes, when set.
func (h *Service) pushFinal(rec *storage.Record, st msg.State, errCode uint16, done int64) {
	if p := h.opts.Pushes; p != nil {
		p.Final(rec, st, errCode, done)
	}
}

// pushMO sends an MO whose route names a URL: joined first when it is a
// part of a concatenated one (whatever ReassembleMO says: an HTTP receiver
// gets one request per message, as Jasmin sends).
func (h *Service) pushMO(e *encoder, in *msg.Inbound, route string, now time.Time) error {
	if h.opts.Pushes == nil {
		return ErrNoMORoute
	}
	if done, err := h.mo.add(h, e, in, route, true, now); done {
		return err
	}
	return h.opts.Pushes.PushMO(in, nil, route)
}
