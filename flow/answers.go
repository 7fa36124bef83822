package flow

import "github.com/smppd/smppd/msg"

// Answers is told the upstream's answer to each MT: ESME_ROK when a
// connector accepted it (Sink.Accepted, with the upstream's id), else the
// status it failed with (Sink.Failed). Package delivery/webhook takes it
// for the level-1 receipt callbacks of messages submitted over HTTP
// (wired by cmd/smppd). It runs on connector goroutines and must not
// block; for a message without a callback it costs a lookup.
type Answers interface {
	Answer(id msg.ID, systemID string, connector int, status uint32, upstreamID []byte)
}

// answer hands m's outcome to Options.Answers, when set. It runs before
// the store records the outcome, so what it keeps is in the log first:
// a message a crash sends again finds its callback made.
func (h *Hub) answer(m *msg.Message, status uint32, upstreamID []byte) {
	if a := h.opts.Answers; a != nil {
		a.Answer(m.ID, m.SystemID, m.Connector, status, upstreamID)
	}
}
