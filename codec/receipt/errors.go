package receipt

import "errors"

// Sentinel errors; match them with errors.Is. None of them allocates.
var (
	// ErrNotReceipt: the text has neither a non-empty id: nor a non-empty
	// stat: field, so it is not a delivery receipt.
	ErrNotReceipt = errors.New("receipt: not a delivery receipt (no id and no stat)")
	// ErrDateLength: a receipt date is not 10 (YYMMDDhhmm) or 12
	// (YYMMDDhhmmss) characters long.
	ErrDateLength = errors.New("receipt: date is not 10 or 12 digits")
	// ErrDateSyntax: a receipt date contains a non-digit.
	ErrDateSyntax = errors.New("receipt: date contains a non-digit")
	// ErrDateRange: a receipt date names no real calendar minute (month 13,
	// 31 April, hour 24, ...).
	ErrDateRange = errors.New("receipt: date out of range")
)
