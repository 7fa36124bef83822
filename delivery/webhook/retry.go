package webhook

import "github.com/smppd/smppd/msg"

// Resend enqueues again a callback kept as a dead letter (body: its held
// form, the dead letter's body; id: the message it reports on): the
// operator's retry. A body that is not a held form is an error (a callback refused before it was encoded keeps only
// its parameters: it cannot be rebuilt), else what Enqueue returns.
func (s *Service) Resend(id msg.ID, body []byte) error {
	var r Request
	if err := decodeRequest(body, &r); err != nil {
		return err
	}
	r.ID = id
	return s.Enqueue(&r)
}
