package engine

import "github.com/smppd/smppd/codec"

// state is a session's position in the SMPP 3.4 §7.1 state machine (server view).
type state uint8

const (
	stateOpen      state = iota // connected, not bound
	stateBinding                // bind_* received, Authenticator running off the loop
	stateBoundTX                // bound as transmitter
	stateBoundRX                // bound as receiver
	stateBoundTRX               // bound as transceiver
	stateUnbinding              // we sent unbind; only responses and enquire_link are served
	stateClosed                 // terminal; the session struct is back in the pool
)

var stateNames = [...]string{"open", "binding", "bound_tx", "bound_rx", "bound_trx", "unbinding", "closed"}

func (s state) String() string { return stateNames[s] }

func (s state) bound() bool { return s == stateBoundTX || s == stateBoundRX || s == stateBoundTRX }

// reqKind numbers the request command ids so per-state tables are bitmasks.
type reqKind uint8

const (
	reqUnknown reqKind = iota
	reqBind
	reqQuerySM
	reqSubmitSM
	reqDeliverSM
	reqUnbind
	reqReplaceSM
	reqCancelSM
	reqOutbind
	reqEnquireLink
	reqSubmitMulti
	reqAlertNotification
	reqDataSM
)

func kindOf(id codec.CommandID) reqKind {
	switch id {
	case codec.BindTransmitterID, codec.BindReceiverID, codec.BindTransceiverID:
		return reqBind
	case codec.QuerySMID:
		return reqQuerySM
	case codec.SubmitSMID:
		return reqSubmitSM
	case codec.DeliverSMID:
		return reqDeliverSM
	case codec.UnbindID:
		return reqUnbind
	case codec.ReplaceSMID:
		return reqReplaceSM
	case codec.CancelSMID:
		return reqCancelSM
	case codec.OutbindID:
		return reqOutbind
	case codec.EnquireLinkID:
		return reqEnquireLink
	case codec.SubmitMultiID:
		return reqSubmitMulti
	case codec.AlertNotificationID:
		return reqAlertNotification
	case codec.DataSMID:
		return reqDataSM
	}
	return reqUnknown
}

func bit(k reqKind) uint32 { return 1 << k }

// allowed[state] is the set of requests an ESME may send in that state
// (SMPP 3.4 §2.3 Table 2-1, with what peers do: enquire_link in OPEN,
// replace_sm in TRX as §2.2 says TRX does all TX does, data_sm by the v5.0 rule). bind_* in a bound state is let through so the
// handler can answer ESME_RALYBND; deliver_sm, outbind and alert_notification
// are SMSC→ESME only and never allowed.
var allowed = [...]uint32{
	stateOpen:      bit(reqBind) | bit(reqEnquireLink),
	stateBinding:   bit(reqEnquireLink), // not consulted: input waits while binding
	stateBoundTX:   bit(reqBind) | bit(reqEnquireLink) | bit(reqUnbind) | bit(reqSubmitSM) | bit(reqSubmitMulti) | bit(reqDataSM) | bit(reqQuerySM) | bit(reqCancelSM) | bit(reqReplaceSM),
	stateBoundRX:   bit(reqBind) | bit(reqEnquireLink) | bit(reqUnbind),
	stateBoundTRX:  bit(reqBind) | bit(reqEnquireLink) | bit(reqUnbind) | bit(reqSubmitSM) | bit(reqSubmitMulti) | bit(reqDataSM) | bit(reqQuerySM) | bit(reqCancelSM) | bit(reqReplaceSM),
	stateUnbinding: bit(reqEnquireLink) | bit(reqUnbind),
	stateClosed:    0,
}

// canReceiveDeliver reports whether the server may send deliver_sm in s.
func (s state) canReceiveDeliver() bool { return s == stateBoundRX || s == stateBoundTRX }

// transitions lists the legal moves; anything else is a bug in our code.
var transitions = [...]uint8{
	stateOpen:      1<<stateBinding | 1<<stateClosed,
	stateBinding:   1<<stateOpen | 1<<stateBoundTX | 1<<stateBoundRX | 1<<stateBoundTRX | 1<<stateClosed,
	stateBoundTX:   1<<stateUnbinding | 1<<stateClosed,
	stateBoundRX:   1<<stateUnbinding | 1<<stateClosed,
	stateBoundTRX:  1<<stateUnbinding | 1<<stateClosed,
	stateUnbinding: 1 << stateClosed,
	stateClosed:    0,
}

func boundState(bt BindType) state {
	switch bt {
	case BindTransmitter:
		return stateBoundTX
	case BindReceiver:
		return stateBoundRX
	}
	return stateBoundTRX
}
