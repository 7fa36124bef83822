package accounts

// Fair shares of the held receipts and MO: a user's max_held_per_user, else
// its group's, else the Store's (Options.HeldShare, [delivery]
// max_held_per_user), so one user's backlog cannot take every other user's
// room in the store.

// heldShare resolves u's share within groups, def being the Store's.
func heldShare(u *User, groups map[string]Group, def int) int {
	if u.MaxHeldPerUser > 0 {
		return u.MaxHeldPerUser
	}
	if g, ok := groups[u.Group]; ok && u.Group != "" && g.MaxHeldPerUser > 0 {
		return g.MaxHeldPerUser
	}
	return def
}

// HeldLimit is how many held items systemID may have in the store
// (storage.HeldLimit): its current record's share, or Options.HeldShare
// for a system_id the Store does not hold (a removed user's items). 0 =
// no share. One map lookup and one atomic load: cheap enough for every
// Hold, and safe for concurrent use.
func (s *Store) HeldLimit(systemID string) int {
	if e := s.snap.Load().users[systemID]; e != nil {
		return e.cur.Load().held
	}
	return s.share
}
