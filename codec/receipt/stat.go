package receipt

// Stat is the final (or intermediate) state a receipt reports. The values
// 1..8 are the SMPP v3.4 message_state values (SMPP 3.4 §5.2.28, the TLV
// 0x0427 of §5.3.2.35 and query_sm_resp), so a Stat converts to
// message_state without a table.
type Stat uint8

// Stat values. The comment gives the 7-letter receipt word (stat:) that
// String returns and Append writes.
const (
	StatNone          Stat = 0   // no stat: field, or an empty one
	StatEnroute       Stat = 1   // ENROUTE (intermediate notification)
	StatDelivered     Stat = 2   // DELIVRD
	StatExpired       Stat = 3   // EXPIRED
	StatDeleted       Stat = 4   // DELETED
	StatUndeliverable Stat = 5   // UNDELIV
	StatAccepted      Stat = 6   // ACCEPTD
	StatUnknown       Stat = 7   // UNKNOWN
	StatRejected      Stat = 8   // REJECTD
	StatOther         Stat = 255 // a word we do not know (FAILED, ...); see Receipt.StatRaw
)

// words holds the receipt word (index = Stat) and the spec message_state name.
var words = [...]struct{ word, name string }{
	StatEnroute:       {"ENROUTE", "ENROUTE"},
	StatDelivered:     {"DELIVRD", "DELIVERED"},
	StatExpired:       {"EXPIRED", "EXPIRED"},
	StatDeleted:       {"DELETED", "DELETED"},
	StatUndeliverable: {"UNDELIV", "UNDELIVERABLE"},
	StatAccepted:      {"ACCEPTD", "ACCEPTED"},
	StatUnknown:       {"UNKNOWN", "UNKNOWN"},
	StatRejected:      {"REJECTD", "REJECTED"},
}

// aliases are the long or misspelt forms carriers send (the full
// message_state names of SMPP 3.4 §5.2.28, Jasmin's own names). FAILED is
// deliberately absent: whether it means UNDELIV or REJECTD is a per-carrier
// decision, so it stays StatOther and the caller maps StatRaw.
var aliases = [...]struct {
	word string
	stat Stat
}{
	{"EN_ROUTE", StatEnroute},
	{"DELIVERED", StatDelivered},
	{"UNDELIVERABLE", StatUndeliverable},
	{"UNDELIVERED", StatUndeliverable},
	{"ACCEPTED", StatAccepted},
	{"REJECTED", StatRejected},
}

// String returns the 7-letter receipt word ("DELIVRD"), "NONE" for
// StatNone and "OTHER" for StatOther or any value outside the table.
func (s Stat) String() string {
	if s >= StatEnroute && s <= StatRejected {
		return words[s].word
	}
	if s == StatNone {
		return "NONE"
	}
	return "OTHER"
}

// Name returns the SMPP v3.4 message_state name ("DELIVERED"), or "" for
// StatNone and StatOther.
func (s Stat) Name() string {
	if s >= StatEnroute && s <= StatRejected {
		return words[s].name
	}
	return ""
}

// MessageState returns the message_state value (1..8) for the
// message_state TLV; ok is false for StatNone and StatOther, which have no
// v3.4 value (send StatUnknown's 7 if a value is required).
func (s Stat) MessageState() (v uint8, ok bool) {
	if s >= StatEnroute && s <= StatRejected {
		return uint8(s), true
	}
	return 0, false
}

// StatFromMessageState maps a message_state value to a Stat; ok is false
// for values outside v3.4's 1..8 (v5.0's 0 SCHEDULED and 9 SKIPPED too).
func StatFromMessageState(v uint8) (s Stat, ok bool) {
	if v >= uint8(StatEnroute) && v <= uint8(StatRejected) {
		return Stat(v), true
	}
	return StatNone, false
}

// ParseStat reads a stat: word, ignoring ASCII case: the seven receipt
// words, ENROUTE, and the long forms DELIVERED, UNDELIVERABLE, UNDELIVERED,
// ACCEPTED, REJECTED, EN_ROUTE. Empty input gives StatNone; anything else
// StatOther. It does not allocate.
func ParseStat(b []byte) Stat {
	if len(b) == 0 {
		return StatNone
	}
	for s := StatEnroute; s <= StatRejected; s++ {
		if equalFold(b, words[s].word) {
			return s
		}
	}
	for _, a := range aliases {
		if equalFold(b, a.word) {
			return a.stat
		}
	}
	return StatOther
}

// equalFold compares b with the upper-case ASCII word w, ignoring ASCII case.
func equalFold(b []byte, w string) bool {
	if len(b) != len(w) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if upper(b[i]) != w[i] {
			return false
		}
	}
	return true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}
