// Package codec is the SMPP v3.4 wire codec: framing, the 16-octet header,
// every v3.4 PDU body, TLVs and the status, command id and tag constants,
// and what a request says of its concatenation (ReadParts). It imports only
// the standard library and its own subpackages (charset and concat, for
// ReadParts) and knows nothing of sockets, sessions, time, logging or pools.
//
// # Framing
//
// FrameLen reads command_length from 4 octets and rejects lengths below 16
// or above the configured maximum before anything is buffered; Frames walks
// a read buffer and reports how many octets form whole PDUs and how many are
// still missing. An unknown command id with a sane length keeps the stream
// in sync: skip command_length octets and answer generic_nack.
//
// # Views and their lifetime
//
// Decode works in place and allocates nothing: every []byte field of a
// decoded body (C-Octet Strings without their NUL, short_message, TLV
// values, destination lists) is a view into the buffer passed to Decode,
// capped at its own length. A view is valid until that buffer is reused or
// modified (for the engine: until the handler returns); copy what must live
// longer. Append appends the whole PDU to the caller's buffer, computing
// command_length, never touching the bytes already in it, and allocates
// nothing when the buffer has the capacity. TLVs.Add and Dests.Add copy into
// buffers owned by the struct, reused across Reset.
//
// # Errors
//
// Every failure is a *DecodeError taken from static tables (no allocation
// per error) carrying the command_status to answer with; StatusOf maps any
// error to a status. There are three classes:
//
//   - Fatal (DecodeError.Fatal): command_length < 16 or above the maximum,
//     or a frame whose size differs from command_length. Framing is lost:
//     send generic_nack ESME_RINVCMDLEN and close.
//   - Unknown command (ErrUnknownCommand, ESME_RINVCMDID): the header is
//     sound; generic_nack a request, ignore a response, skip the frame.
//   - Body errors: the header is sound, so the request gets its matching
//     response with Status and the session reads on.
//
// Body errors get the statuses of SMPP 3.4 §5.1.3 as follows:
//
//   - mandatory part truncated, or a C-Octet String with no NUL before the
//     end of the PDU: ESME_RINVCMDLEN;
//   - a C-Octet String with no NUL within its maximum size (NUL included):
//     the field's status (system_id RINVSYSID, password RINVPASWD,
//     system_type RINVSYSTYP, service_type RINVSERTYP, source_addr
//     RINVSRCADR, destination_addr RINVDSTADR, message_id RINVMSGID, dl_name
//     RINVDLNAME, schedule_delivery_time RINVSCHED, validity_period
//     RINVEXPIRY); fields without a code of their own (address_range,
//     esme_addr, final_date) get ESME_RINVCMDLEN;
//   - schedule_delivery_time / validity_period neither empty nor 16
//     characters: RINVSCHED / RINVEXPIRY;
//   - sm_length > 254, sm_length past the end of the PDU, or short_message
//     together with message_payload: ESME_RINVMSGLEN;
//   - number_of_dests 0 or > 254: ESME_RINVNUMDESTS; dest_flag not 1 or 2:
//     ESME_RINVDESTFLAG;
//   - TLV header or value truncated (including trailing garbage that is not
//     a TLV): ESME_RINVOPTPARSTREAM; a known tag with a length outside its
//     spec range: ESME_RINVPARLEN. Unknown tags are kept and passed through.
//     Up to 3 NUL octets right after short_message are ignored (peers that
//     NUL-terminate it although sm_length excludes the NUL).
//   - a header-only request (unbind, enquire_link) with a body:
//     ESME_RINVCMDLEN.
//
// Responses whose body may be absent on error (bind_*_resp, submit_sm_resp,
// deliver_sm_resp, data_sm_resp, submit_multi_resp, query_sm_resp) decode an
// empty body without error; Append always writes the body. Semantic checks
// (priority_flag range, esm_class for the direction, time syntax, TON/NPI
// policy) belong to the caller.
package codec
