package msg

// Final is an accepted MT message's final state as the hub reports it to
// the CDR stream: once per message, when the store took it as the
// message's first final state (a late or duplicate receipt reports
// nothing). It is passed by value, so reporting allocates nothing.
type Final struct {
	ID    ID
	State State
	Err   uint16 // error code: the upstream's status or the receipt's err:
	Done  int64  // Unix ns of the final state (a receipt's done date)
	// UpstreamID is the upstream's id of the message when the reporter
	// has it at hand (a view valid during the call); nil otherwise.
	UpstreamID []byte
	// Refunded: the charge was given back (the message failed here, or
	// was cancelled before it went upstream).
	Refunded bool
}
