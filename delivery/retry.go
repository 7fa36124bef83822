package delivery

import (
	"errors"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// ErrBadDeadMO: a dead letter's body is neither a deliver_sm nor a
// data_sm body, so it cannot be delivered again.
var ErrBadDeadMO = errors.New("delivery: the dead letter's body is not a deliver_sm or data_sm body")

// Retry offers systemID's held items again now, as when a receiver binds
// (the operator's retry of a held MO or receipt): each is delivered if a
// receiver of the user is bound, else it stays held in its place. It
// never blocks.
func (h *Service) Retry(systemID string) {
	h.binds.add(systemID)
	h.bg.poke()
}

// RetryDeadMO delivers again an MO kept as a dead letter (body: the
// deliver_sm or data_sm body it came in), through the MO routes as they
// are now, or to systemID when it is set. Unlike MO it keeps nothing on
// failure: the error (ErrNoMORoute, ErrUnknownUser, ErrBadMO, ErrBadDeadMO,
// storage.ErrHeldFull) says why, and the letter stays where it was.
func (h *Service) RetryDeadMO(systemID string, body []byte) error {
	in := msg.Inbound{SystemID: systemID, Received: h.now().UnixNano()}
	var sm codec.SM
	if err := sm.Decode(body); err == nil {
		in.ServiceType, in.SourceTON, in.SourceNPI, in.Source = sm.ServiceType, sm.SourceAddrTON, sm.SourceAddrNPI, sm.SourceAddr
		in.DestTON, in.DestNPI, in.Dest = sm.DestAddrTON, sm.DestAddrNPI, sm.DestinationAddr
		in.ESMClass, in.ProtocolID, in.Priority = sm.ESMClass, sm.ProtocolID, sm.PriorityFlag
		in.DataCoding, in.ShortMessage, in.TLVs = sm.DataCoding, sm.ShortMessage, sm.TLVs.Raw()
	} else {
		var d codec.DataSM
		if d.Decode(body) != nil {
			return ErrBadDeadMO
		}
		in.ServiceType, in.SourceTON, in.SourceNPI, in.Source = d.ServiceType, d.SourceAddrTON, d.SourceAddrNPI, d.SourceAddr
		in.DestTON, in.DestNPI, in.Dest = d.DestAddrTON, d.DestAddrNPI, d.DestinationAddr
		in.ESMClass, in.DataCoding, in.TLVs = d.ESMClass, d.DataCoding, d.TLVs.Raw()
	}
	in.Raw = body
	return h.deliverMO(&in)
}
