package codec

// The short-message tail that submit_sm, deliver_sm, submit_multi and
// replace_sm share (SMPP 3.4 §4.4.1, §4.5.1, §4.10.1): sm_length with
// short_message, and the TLVs that may carry message_payload instead.
// Each helper here is small enough to inline: the decoders and encoders
// that use them are the hot path.

// shortMessage reads sm_length and short_message at b[i:].
func shortMessage(b []byte, i int) ([]byte, int, *DecodeError) {
	if i >= len(b) {
		return nil, i, errTruncSMLength
	}
	n := int(b[i])
	i++
	if n > MaxShortMessage {
		return nil, i, ErrSMLength
	}
	if n > len(b)-i {
		return nil, i, ErrSMOverrun
	}
	return b[i : i+n : i+n], i + n, nil
}

// smDecoded finishes the TLV decode (result e) of a PDU that carries
// short_message sm: the text may travel in short_message or in
// message_payload, never both (SMPP 3.4 §4.4.1).
func smDecoded(e *DecodeError, sm []byte, t *TLVs) error {
	if e == nil && len(sm) != 0 && t.payload {
		return ErrSMAndPayload
	}
	return e.orNil()
}

// checkSM is the encode-side check of short_message and the TLVs.
func checkSM(sm []byte, t *TLVs) *DecodeError {
	if len(sm) > MaxShortMessage {
		return ErrSMLength
	}
	if t.err != nil {
		return t.err
	}
	if len(sm) != 0 && t.payload {
		return ErrSMAndPayload
	}
	return nil
}

// putSM writes sm_length, short_message and the TLVs at w[i:]; the caller
// sized w and checked sm with checkSM.
func putSM(w []byte, i int, sm []byte, t *TLVs) int {
	w[i] = byte(len(sm))
	i++
	i += copy(w[i:], sm)
	return i + copy(w[i:], t.raw)
}
