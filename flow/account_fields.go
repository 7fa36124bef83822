package flow

import (
	"sync"

	"github.com/smppd/smppd/accounts"
)

// TEMPORARY until accounts.User gains Group, Limits, DefaultSource,
// SourceAllowed and Receipts: the same accessors over a side table that
// tests fill. Replaced by direct field access in the final version.

type pendingUser struct {
	group, defaultSource string
	limits               accounts.UserLimits
	receipts             bool
	allowed              func([]byte) bool
}

var pendingUsers sync.Map // *accounts.User -> *pendingUser

func pending(u *accounts.User) *pendingUser {
	v, _ := pendingUsers.Load(u)
	return v.(*pendingUser)
}

func userGroup(u *accounts.User) string                { return pending(u).group }
func userLimits(u *accounts.User) *accounts.UserLimits { return &pending(u).limits }
func userDefaultSource(u *accounts.User) string        { return pending(u).defaultSource }
func userReceipts(u *accounts.User) bool               { return pending(u).receipts }
func userSourceAllowed(u *accounts.User, s []byte) bool {
	p := pending(u)
	return p.allowed == nil || p.allowed(s)
}
