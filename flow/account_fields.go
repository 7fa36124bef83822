package flow

import "github.com/smppd/smppd/accounts"

// The hub reads these fields of the user's current record; the record is
// immutable once published, so reading without a lock is safe.

func userGroup(u *accounts.User) string                 { return u.Group }
func userLimits(u *accounts.User) *accounts.UserLimits  { return &u.Limits }
func userDefaultSource(u *accounts.User) string         { return u.DefaultSource }
func userReceipts(u *accounts.User) bool                { return u.Receipts }
func userSourceAllowed(u *accounts.User, s []byte) bool { return u.SourceAllowed(s) }
