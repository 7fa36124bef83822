package storage

// The operator's traffic tools (the admin API's /v1/held and
// /v1/dead-letters) look at held items and dead letters without taking
// them: optional interfaces, so a store that lacks one makes its tool
// answer "not supported" rather than guess.

// HeldWalker is a Holds that lists its items without leasing them.
type HeldWalker interface {
	// Walk calls fn with each held item (leased ones included, with
	// leased true) until fn returns false. h and its Body are valid during
	// the call only, and fn runs under the store's lock: it must not call
	// the store. Not for the message path: an operator's listing.
	Walk(fn func(h *Held, leased bool) bool) error
}

// DeadLetterRemover is a DeadLetters from which an operator removes
// letters: a purge, or a retry that took. A durable store logs the
// removal, so a letter removed stays removed after a restart.
type DeadLetterRemover interface {
	// Remove drops the letters whose At is at (the letter's name in the
	// admin API) and returns how many went.
	Remove(at int64) (int, error)
}
