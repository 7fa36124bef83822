package flow

import (
	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/engine"
)

// userPrincipal is what an MT session's engine.Principal must be:
// *accounts.Bind (tests use their own). Asserting to it costs no allocation.
type userPrincipal interface {
	User() *accounts.User
}

// userOf returns the session's user, or nil when the principal carries none
// (a wiring bug: the request is answered ESME_RSYSERR). The user's record
// is immutable once published: the hub reads its fields without a lock.
func userOf(p engine.Principal) *accounts.User {
	if up, ok := p.(userPrincipal); ok {
		return up.User()
	}
	return nil
}
