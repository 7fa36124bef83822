package codec

// PDU is a union of every v3.4 body, for tests, fuzzing, cross-checks and
// the bench client; the engine may call the per-type Decode directly. Only
// the body selected by Header.CommandID is meaningful. A PDU is large
// (destination offsets): reuse one rather than making one per frame.
type PDU struct {
	Header            Header
	Bind              Bind              // bind_transmitter/receiver/transceiver
	BindResp          BindResp          // bind_*_resp
	Outbind           Outbind           // outbind
	SM                SM                // submit_sm, deliver_sm
	SubmitSMResp      SubmitSMResp      // submit_sm_resp
	DeliverSMResp     DeliverSMResp     // deliver_sm_resp
	DataSM            DataSM            // data_sm
	DataSMResp        DataSMResp        // data_sm_resp
	SubmitMulti       SubmitMulti       // submit_multi
	SubmitMultiResp   SubmitMultiResp   // submit_multi_resp
	QuerySM           QuerySM           // query_sm
	QuerySMResp       QuerySMResp       // query_sm_resp
	CancelSM          CancelSM          // cancel_sm
	ReplaceSM         ReplaceSM         // replace_sm
	AlertNotification AlertNotification // alert_notification
}

// Decode parses a whole frame (header included; exactly command_length
// octets, as split off by FrameLen/Frames). Body fields are views into
// frame. An unknown command id is ErrUnknownCommand (ESME_RINVCMDID; the
// header is still in p.Header so the caller can nack with its sequence).
//
// Header-only requests (unbind, enquire_link) must be exactly 16 octets
// (ErrBodyNotEmpty); header-only responses with stray body octets are
// accepted and the octets ignored (some peers send them with a stray 0x00).
func (p *PDU) Decode(frame []byte) error {
	h, err := ParseHeader(frame)
	if err != nil {
		return err
	}
	p.Header = h
	if h.Length < HeaderLen {
		return ErrCmdLenTooSmall
	}
	if int(h.Length) != len(frame) {
		return ErrFrameLen
	}
	body := frame[HeaderLen:]
	switch h.CommandID {
	case BindReceiverID, BindTransmitterID, BindTransceiverID:
		return p.Bind.Decode(body)
	case BindReceiverRespID, BindTransmitterRespID, BindTransceiverRespID:
		return p.BindResp.Decode(body)
	case OutbindID:
		return p.Outbind.Decode(body)
	case SubmitSMID, DeliverSMID:
		return p.SM.Decode(body)
	case SubmitSMRespID:
		return p.SubmitSMResp.Decode(body)
	case DeliverSMRespID:
		return p.DeliverSMResp.Decode(body)
	case DataSMID:
		return p.DataSM.Decode(body)
	case DataSMRespID:
		return p.DataSMResp.Decode(body)
	case SubmitMultiID:
		return p.SubmitMulti.Decode(body)
	case SubmitMultiRespID:
		return p.SubmitMultiResp.Decode(body)
	case QuerySMID:
		return p.QuerySM.Decode(body)
	case QuerySMRespID:
		return p.QuerySMResp.Decode(body)
	case CancelSMID:
		return p.CancelSM.Decode(body)
	case ReplaceSMID:
		return p.ReplaceSM.Decode(body)
	case AlertNotificationID:
		return p.AlertNotification.Decode(body)
	case UnbindID, EnquireLinkID:
		return DecodeEmpty(body)
	case UnbindRespID, EnquireLinkRespID, GenericNackID, CancelSMRespID, ReplaceSMRespID:
		return nil
	}
	return ErrUnknownCommand
}

// Append encodes the body selected by p.Header.CommandID (header from
// p.Header, command_length computed) and appends it to dst, with the same
// guarantees as the per-type Append. Unknown ids are ErrEncodeCommand.
func (p *PDU) Append(dst []byte) ([]byte, error) {
	h := p.Header
	switch h.CommandID {
	case BindReceiverID, BindTransmitterID, BindTransceiverID:
		return p.Bind.Append(dst, h)
	case BindReceiverRespID, BindTransmitterRespID, BindTransceiverRespID:
		return p.BindResp.Append(dst, h)
	case OutbindID:
		return p.Outbind.Append(dst, h)
	case SubmitSMID, DeliverSMID:
		return p.SM.Append(dst, h)
	case SubmitSMRespID:
		return p.SubmitSMResp.Append(dst, h)
	case DeliverSMRespID:
		return p.DeliverSMResp.Append(dst, h)
	case DataSMID:
		return p.DataSM.Append(dst, h)
	case DataSMRespID:
		return p.DataSMResp.Append(dst, h)
	case SubmitMultiID:
		return p.SubmitMulti.Append(dst, h)
	case SubmitMultiRespID:
		return p.SubmitMultiResp.Append(dst, h)
	case QuerySMID:
		return p.QuerySM.Append(dst, h)
	case QuerySMRespID:
		return p.QuerySMResp.Append(dst, h)
	case CancelSMID:
		return p.CancelSM.Append(dst, h)
	case ReplaceSMID:
		return p.ReplaceSM.Append(dst, h)
	case AlertNotificationID:
		return p.AlertNotification.Append(dst, h)
	case UnbindID, EnquireLinkID, UnbindRespID, EnquireLinkRespID, GenericNackID, CancelSMRespID, ReplaceSMRespID:
		return AppendHeaderOnly(dst, h), nil
	}
	return dst, ErrEncodeCommand
}

// Reset clears every body, keeping builder capacity.
func (p *PDU) Reset() {
	p.Header = Header{}
	p.Bind.Reset()
	p.BindResp.Reset()
	p.Outbind.Reset()
	p.SM.Reset()
	p.SubmitSMResp.Reset()
	p.DeliverSMResp.Reset()
	p.DataSM.Reset()
	p.DataSMResp.Reset()
	p.SubmitMulti.Reset()
	p.SubmitMultiResp.Reset()
	p.QuerySM.Reset()
	p.QuerySMResp.Reset()
	p.CancelSM.Reset()
	p.ReplaceSM.Reset()
	p.AlertNotification.Reset()
}
