package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
)

// accountUsers returns the users as config.Validate parsed them (with
// accounts.ParseUsers, the rules of the operations API and the Store).
func accountUsers(in []config.User) ([]accounts.User, error) {
	out := make([]accounts.User, len(in))
	for i := range in {
		if in[i].Account.SystemID != in[i].SystemID {
			return nil, fmt.Errorf("user %q was not validated (config.Validate fills its Account)", in[i].SystemID)
		}
		out[i] = in[i].Account
	}
	return out, nil
}

func accountGroups(in []config.Group) []accounts.Group {
	out := make([]accounts.Group, len(in))
	for i, g := range in {
		out[i] = accounts.Group{Name: g.Name, Enabled: g.Enabled, MaxHeldPerUser: g.MaxHeldPerUser}
	}
	return out
}

// configUser is what the users file should say for u now (live balance and
// quota_used included).
func configUser(u *accounts.User) config.User {
	s := u.Spec()
	return config.UserFromSpec(&s)
}

// usersFile writes run-time user changes back to the users file. Users
// defined inline in the main config stay there: a change to one of them
// is in force until restart and logged, because smppd never rewrites the
// main config.
type usersFile struct {
	log zerolog.Logger

	mu     sync.Mutex
	path   string
	inline map[string]bool
	groups []config.Group // the users file's own groups, written back as loaded
}

// update takes the layout of a freshly loaded config.
func (f *usersFile) update(cfg *config.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.path = cfg.UsersPath
	f.inline = make(map[string]bool, cfg.InlineUsers)
	for _, u := range cfg.Users[:cfg.InlineUsers] {
		f.inline[u.SystemID] = true
	}
	f.groups = append([]config.Group(nil), cfg.Groups[cfg.InlineGroups:]...)
}

// persist is accounts.Options.Persist.
func (f *usersFile) persist(users []accounts.User) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.path == "" {
		return fmt.Errorf("no users_file configured: run-time changes last until restart")
	}
	out := make([]config.User, 0, len(users))
	for i := range users {
		if f.inline[users[i].SystemID] {
			continue
		}
		out = append(out, configUser(&users[i]))
	}
	start := time.Now()
	if err := config.SaveUsers(f.path, out, f.groups); err != nil {
		return err
	}
	f.log.Debug().Str("event", "users_saved").Str("file", f.path).Int("users", len(out)).
		Dur("took", time.Since(start)).Msg("users file written")
	return nil
}
