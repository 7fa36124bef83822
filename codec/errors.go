package codec

import "errors"

// DecodeError is the one error type of the codec. Values are preallocated in
// package-level tables and returned by pointer, so producing one never
// allocates; compare them with errors.Is or inspect the fields.
//
// Fatal means framing is lost (command_length unusable): answer with
// generic_nack and close the connection. Otherwise the header is sound and
// the session answers the request with Status in its matching response (or
// generic_nack for an unknown command id), and reads on.
//
// Append returns the same values when asked to encode a field its limit
// forbids, so a caller can map an encode failure to a status the same way.
type DecodeError struct {
	Status Status // command_status to answer with
	Field  string // spec field name ("source_addr", "sm_length", a TLV name, ...)
	Reason string // short explanation
	Fatal  bool   // framing lost: generic_nack and close
	msg    string // precomputed Error() text
}

func (e *DecodeError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return buildMsg(e)
}

func buildMsg(e *DecodeError) string {
	s := "codec: "
	if e.Field != "" {
		s += e.Field + ": "
	}
	return s + e.Reason + " (" + e.Status.String() + ")"
}

// newErr builds a static table entry; only called from package init.
func newErr(st Status, field, reason string, fatal bool) *DecodeError {
	e := &DecodeError{Status: st, Field: field, Reason: reason, Fatal: fatal}
	e.msg = buildMsg(e)
	return e
}

// Sentinel errors. Field-specific C-string and TLV errors live in the field
// and TLV tables (fields.go, tlv_tags.go).
var (
	// ErrShortHeader: fewer than 16 octets where a header was required.
	ErrShortHeader = newErr(StatusInvCmdLen, "command_length", "fewer than 16 octets of header", true)
	// ErrCmdLenTooSmall: command_length < 16.
	ErrCmdLenTooSmall = newErr(StatusInvCmdLen, "command_length", "below 16", true)
	// ErrCmdLenTooLarge: command_length above the configured maximum.
	ErrCmdLenTooLarge = newErr(StatusInvCmdLen, "command_length", "above the maximum PDU length", true)
	// ErrFrameLen: the frame handed to PDU.Decode is not command_length octets long.
	ErrFrameLen = newErr(StatusInvCmdLen, "command_length", "frame size differs from command_length", true)
	// ErrUnknownCommand: command_id is not a v3.4 PDU; skip command_length octets.
	ErrUnknownCommand = newErr(StatusInvCmdID, "command_id", "unknown or reserved command_id", false)
	// ErrBodyNotEmpty: a header-only request carried a body.
	ErrBodyNotEmpty = newErr(StatusInvCmdLen, "command_length", "header-only PDU has a body", false)
	// ErrNoResponse: asked for the response id of a PDU that has none.
	ErrNoResponse = newErr(StatusInvCmdID, "command_id", "PDU has no response", false)

	// ErrSMLength: sm_length above 254.
	ErrSMLength = newErr(StatusInvMsgLen, "sm_length", "above 254", false)
	// ErrSMOverrun: sm_length larger than the octets left in the PDU.
	ErrSMOverrun = newErr(StatusInvMsgLen, "sm_length", "exceeds the remaining body", false)
	// ErrSMAndPayload: short_message and message_payload both used.
	ErrSMAndPayload = newErr(StatusInvMsgLen, "sm_length", "non-zero together with message_payload", false)

	// ErrTLVHeader: 1 to 3 octets left where a TLV header (4 octets) must start.
	ErrTLVHeader = newErr(StatusInvOptParStream, "tlv", "truncated TLV header", false)
	// ErrTLVValue: a TLV length runs past the end of the PDU.
	ErrTLVValue = newErr(StatusInvOptParStream, "tlv", "TLV value runs past the end of the PDU", false)
	// ErrTLVTooLong: a TLV value over 65535 octets given to TLVs.Add.
	ErrTLVTooLong = newErr(StatusInvParLen, "tlv", "value longer than 65535 octets", false)

	// ErrNumDests: number_of_dests 0 or above 254 (decode and encode).
	ErrNumDests = newErr(StatusInvNumDests, "number_of_dests", "must be 1..254", false)
	// ErrDestFlag: dest_flag neither 1 (SME address) nor 2 (distribution list).
	ErrDestFlag = newErr(StatusInvDestFlag, "dest_flag", "must be 1 or 2", false)
	// ErrNumUnsuccess: more unsuccess_sme entries than no_unsuccess can count.
	ErrNumUnsuccess = newErr(StatusInvNumDests, "no_unsuccess", "more than 255 entries", false)

	// ErrEncodeLength: the encoder wrote a different number of octets than it
	// computed. A bug in the codec; the frame is discarded, never sent.
	ErrEncodeLength = newErr(StatusSysErr, "command_length", "BUG: encoded size differs from computed size", false)
	// ErrEncodeCommand: PDU.Append with a command id it cannot encode.
	ErrEncodeCommand = newErr(StatusInvCmdID, "command_id", "cannot encode this command_id", false)
)

// Truncation inside the mandatory integer fields: the body ended early, so
// command_length is inconsistent with the contents (ESME_RINVCMDLEN,
// SMPP 3.4 §5.1.3).
var (
	errTruncInterface  = newErr(StatusInvCmdLen, "interface_version", "body ends inside the mandatory fields", false)
	errTruncSource     = newErr(StatusInvCmdLen, "source_addr_ton", "body ends inside the mandatory fields", false)
	errTruncDest       = newErr(StatusInvCmdLen, "dest_addr_ton", "body ends inside the mandatory fields", false)
	errTruncESMClass   = newErr(StatusInvCmdLen, "esm_class", "body ends inside the mandatory fields", false)
	errTruncRegistered = newErr(StatusInvCmdLen, "registered_delivery", "body ends inside the mandatory fields", false)
	errTruncNumDests   = newErr(StatusInvCmdLen, "number_of_dests", "body ends inside the mandatory fields", false)
	errTruncDestFlag   = newErr(StatusInvCmdLen, "dest_address", "body ends inside the destination list", false)
	errTruncUnsuccess  = newErr(StatusInvCmdLen, "unsuccess_sme", "body ends inside the unsuccess list", false)
	errTruncMsgState   = newErr(StatusInvCmdLen, "message_state", "body ends inside the mandatory fields", false)
	errTruncESMEAddr   = newErr(StatusInvCmdLen, "esme_addr_ton", "body ends inside the mandatory fields", false)
	errTruncSMLength   = newErr(StatusInvCmdLen, "sm_length", "body ends inside the mandatory fields", false)
)

// StatusOf maps an error to the command_status to answer with: StatusOK for
// nil, the DecodeError's Status, or StatusSysErr for any other error.
func StatusOf(err error) Status {
	if err == nil {
		return StatusOK
	}
	if de, ok := err.(*DecodeError); ok {
		return de.Status
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return de.Status
	}
	return StatusSysErr
}

// IsFatal reports whether err means the stream cannot be resynchronised.
func IsFatal(err error) bool {
	if de, ok := err.(*DecodeError); ok {
		return de.Fatal
	}
	var de *DecodeError
	return errors.As(err, &de) && de.Fatal
}

// orNil converts a possibly-nil *DecodeError to an error without creating
// a non-nil interface holding a nil pointer.
func (e *DecodeError) orNil() error {
	if e == nil {
		return nil
	}
	return e
}
