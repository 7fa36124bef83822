package codec

// msgIDResp is the shared layout of submit_sm_resp, deliver_sm_resp and
// data_sm_resp: message_id then (optional) TLVs.
func decodeMsgIDResp(body []byte, id *[]byte, t *TLVs) error {
	if len(body) == 0 { // error responses may omit the body (SMPP 3.4 §4.4.2)
		*id = nil
		return t.decode(nil, false).orNil()
	}
	v, i, e := cstr(body, 0, fMessageID)
	if e != nil {
		return e
	}
	*id = v
	return t.decode(body[i:], false).orNil()
}

func appendMsgIDResp(dst []byte, h Header, id []byte, t *TLVs) ([]byte, error) {
	if e := clen(id, fMessageID); e != nil {
		return dst, e
	}
	if t.err != nil {
		return dst, t.err
	}
	n := HeaderLen + len(id) + 1 + len(t.raw)
	start := len(dst)
	dst = grow(dst, n)
	w := dst[start:]
	putHeader(w, n, h)
	i, z := putCS(w, HeaderLen, id)
	i += copy(w[i:], t.raw)
	if z != 0 {
		return dst[:start], fMessageID.hasNUL
	}
	return finish(dst, start, i, n)
}

// SubmitSMResp is the body of submit_sm_resp. v3.4 defines no TLVs for it;
// any a peer sends are kept.
type SubmitSMResp struct {
	MessageID []byte
	TLVs      TLVs
}

// Reset clears p for reuse.
func (p *SubmitSMResp) Reset() { p.MessageID = nil; p.TLVs.Reset() }

// Decode parses the body; an empty body (error response) is accepted.
// MessageID is a view into body.
func (p *SubmitSMResp) Decode(body []byte) error {
	return decodeMsgIDResp(body, &p.MessageID, &p.TLVs)
}

// Append appends the whole PDU. The message_id is always written, as a lone
// NUL when empty, also for error statuses (SMPP 3.4 §4.4.2 lets it be
// omitted, but some client libraries cannot decode a response without it).
// dst's existing bytes are untouched; no allocation with capacity.
func (p *SubmitSMResp) Append(dst []byte, h Header) ([]byte, error) {
	return appendMsgIDResp(dst, h, p.MessageID, &p.TLVs)
}

// DeliverSMResp is the body of deliver_sm_resp. The spec's message_id is
// unused (a lone NUL, SMPP 3.4 §4.6.2); clients that put an id there are
// tolerated up to the usual 65 octets both ways. A 16-octet PDU
// without body is accepted too.
type DeliverSMResp struct {
	MessageID []byte
	TLVs      TLVs
}

// Reset clears p for reuse.
func (p *DeliverSMResp) Reset() { p.MessageID = nil; p.TLVs.Reset() }

// Decode parses the body; an empty body is accepted.
func (p *DeliverSMResp) Decode(body []byte) error {
	return decodeMsgIDResp(body, &p.MessageID, &p.TLVs)
}

// Append appends the whole PDU (message_id written as given, normally empty).
func (p *DeliverSMResp) Append(dst []byte, h Header) ([]byte, error) {
	return appendMsgIDResp(dst, h, p.MessageID, &p.TLVs)
}

// DataSMResp is the body of data_sm_resp: message_id plus TLVs
// (delivery_failure_reason, network_error_code, additional_status_info_text,
// dpf_result).
type DataSMResp struct {
	MessageID []byte
	TLVs      TLVs
}

// Reset clears p for reuse.
func (p *DataSMResp) Reset() { p.MessageID = nil; p.TLVs.Reset() }

// Decode parses the body; an empty body (error response) is accepted.
func (p *DataSMResp) Decode(body []byte) error {
	return decodeMsgIDResp(body, &p.MessageID, &p.TLVs)
}

// Append appends the whole PDU; the body is always written.
func (p *DataSMResp) Append(dst []byte, h Header) ([]byte, error) {
	return appendMsgIDResp(dst, h, p.MessageID, &p.TLVs)
}
