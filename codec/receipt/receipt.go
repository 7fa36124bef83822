// Package receipt builds and parses the text of SMPP v3.4 delivery receipts
// (SMPP 3.4 Appendix B): the short_message of a deliver_sm or
// data_sm whose esm_class message type is 0x04.
//
// # Format written
//
// Append writes the canonical form most client parsers expect, every field
// always present, in this order:
//
//	id:<ID> sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:EEE text:<up to 20 chars>
//
// sub, dlvrd and err are zero-padded to 3 digits (wider values are written
// in full, negatives as 000); stat is the 7-letter word; the text key is
// lower case ("text:": what carriers mostly send and client parsers
// expect; Appendix B's table has "text", its template "Text:") unless
// Format.TitleText asks for the template's "Text:";
// dates have 10 digits unless Format.Seconds asks for 12. The text is the
// first 20 characters of Receipt.Text (Appendix B) made GSM/ASCII-safe, so
// the receipt can go out with data_coding 0: see Format.Append.
//
// # What Parse accepts
//
// Parse is a tolerant key:value scanner, not a template match: keys in any
// ASCII case, in any order, with blanks around the colon; "submit date",
// "submit_date" and "submitdate" (likewise done date); 10- or 12-digit
// dates; fields missing; unknown key:value fields and stray words ignored;
// the first occurrence of a key wins. The text key ends the scan: everything
// after it, colons included, is the text, so keys written after text: are
// not seen. Parse fails only with ErrNotReceipt, when neither a non-empty id
// nor a non-empty stat is present; it does not check esm_class, so run it
// on messages already known to be receipts, or treat success on an ordinary
// message as a hint only. Prefer the receipted_message_id and message_state
// TLVs (SMPP 3.4 §5.3.2.12, §5.3.2.35) over the text when both are present:
// the text's format is vendor-specific.
//
// # Views and time zones
//
// Parse allocates nothing: ID, StatRaw, Err and Text are views into the
// input, valid while that buffer is unmodified (for the engine: until the
// handler returns); copy what must live longer. Dates carry no zone in the
// text; Parse reads them as UTC wall clock and ParseIn in a zone of the
// caller's choice.
//
// # Matching ids
//
// Carriers echo the message id in another base than submit_sm_resp gave it
// (hex there, decimal in the receipt, or the reverse). IDEqual compares two ids with automatic detection;
// NormalizeID builds a map key when the bases are known per connector.
package receipt

import "time"

// Field is a bit set naming receipt fields, used for Receipt.Has and
// Receipt.Bad.
type Field uint16

// Field bits.
const (
	FieldID Field = 1 << iota
	FieldSub
	FieldDlvrd
	FieldSubmitDate
	FieldDoneDate
	FieldStat
	FieldErr
	FieldText
)

// Receipt is one delivery receipt. Parse fills every field; for Append the
// caller fills ID, Sub, Dlvrd, SubmitDate, DoneDate, Stat, ErrCode and Text
// (Has, Bad, StatRaw and Err are not read by Append).
//
// Byte fields are views into Parse's input (see the package doc for their
// lifetime); Append only reads them.
type Receipt struct {
	// ID is the id: value as sent (hex, decimal, UUID, ...), no whitespace.
	// For Append it must be a single token without whitespace, as SMPP
	// message_ids are; it is written verbatim.
	ID []byte
	// StatRaw is the stat: value as sent ("DELIVRD", "delivered", "FAILED").
	StatRaw []byte
	// Err is the err: value as sent ("000", "0", "null", "0012").
	Err []byte
	// Text is everything after the text: key, blanks and NULs trimmed at
	// both ends; it may contain colons and spaces.
	Text []byte

	// SubmitDate and DoneDate are the zero time when absent, unparsable or
	// written as all zeros.
	SubmitDate, DoneDate time.Time

	// Sub and Dlvrd are the sub: and dlvrd: counts (usually 1, and 1 or 0).
	Sub, Dlvrd int
	// ErrCode is err: read as a decimal number; 0 when absent or not
	// decimal (Bad has FieldErr then).
	ErrCode int

	// Stat is the state word mapped by ParseStat.
	Stat Stat

	// Has marks the fields whose key was present.
	Has Field
	// Bad marks fields present but unusable (empty id or stat, non-numeric
	// or over 9 digits sub/dlvrd/err, malformed dates); their parsed value
	// is left at zero while the raw views above still show what was sent.
	Bad Field
}

// Format selects the choices Appendix B leaves open. The zero value is the
// canonical form Append documents.
type Format struct {
	// TitleText writes "Text:" as the Appendix B template does, instead of
	// the "text:" most carriers send.
	TitleText bool
	// Seconds writes 12-digit dates (YYMMDDhhmmss) instead of the spec's 10.
	Seconds bool
}

// Append appends r in the canonical form (Format{}): see Format.Append.
func Append(dst []byte, r *Receipt) []byte {
	return Format{}.Append(dst, r)
}

// Parse reads a receipt text, dates as UTC wall clock: see ParseIn.
func Parse(b []byte) (Receipt, error) {
	return ParseIn(b, time.UTC)
}
