package main

import (
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
)

// accountUsers maps config users onto accounts users.
func accountUsers(in []config.User) ([]accounts.User, error) {
	out := make([]accounts.User, 0, len(in))
	for i := range in {
		u, err := accountUser(&in[i])
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

func accountUser(u *config.User) (accounts.User, error) {
	bt, err := accounts.ParseBindTypes(u.BindTypes)
	if err != nil {
		return accounts.User{}, fmt.Errorf("user %s: %w", u.SystemID, err)
	}
	bal, err := accounts.ParseAmount(u.Balance)
	if err != nil {
		return accounts.User{}, fmt.Errorf("user %s: balance: %w", u.SystemID, err)
	}
	prio := uint8(u.MaxPriority)
	return accounts.User{
		SystemID:        u.SystemID,
		PasswordHash:    u.PasswordHash,
		Enabled:         u.Enabled,
		Group:           u.Group,
		BindTypes:       bt,
		MaxBinds:        u.MaxBinds,
		AllowIPs:        u.AllowPrefixes,
		MaxBindsPerType: [3]int{u.MaxBindsPerType.Transmitter, u.MaxBindsPerType.Receiver, u.MaxBindsPerType.Transceiver},
		DefaultSource:   u.DefaultSource,
		SourceAddrs:     u.SourceAddrs,
		Receipts:        u.Receipts,
		Limits: accounts.UserLimits{
			Throughput:  u.Throughput,
			Burst:       u.Burst,
			Balance:     bal,
			Quota:       u.Quota,
			QuotaUsed:   u.QuotaUsed,
			MaxValidity: u.MaxValidity.D(),
			MaxPriority: &prio,
		},
	}, nil
}

func accountGroups(in []config.Group) []accounts.Group {
	out := make([]accounts.Group, len(in))
	for i, g := range in {
		out[i] = accounts.Group{Name: g.Name, Enabled: g.Enabled}
	}
	return out
}

// configUser is accountUser's inverse: what the users file should say for
// u now (live balance and quota_used included).
func configUser(u *accounts.User) config.User {
	c := config.DefaultUser()
	c.SystemID, c.PasswordHash, c.Enabled, c.Group = u.SystemID, u.PasswordHash, u.Enabled, u.Group
	c.BindTypes = c.BindTypes[:0]
	for _, bt := range []accounts.BindType{accounts.BindTransmitter, accounts.BindReceiver, accounts.BindTransceiver} {
		if u.BindTypes&bt != 0 {
			c.BindTypes = append(c.BindTypes, bt.String())
		}
	}
	c.MaxBinds = u.MaxBinds
	c.AllowIPs = make([]string, len(u.AllowIPs))
	for i, p := range u.AllowIPs {
		c.AllowIPs[i] = prefixString(p)
	}
	c.MaxBindsPerType = config.BindsPerType{Transmitter: u.MaxBindsPerType[0], Receiver: u.MaxBindsPerType[1], Transceiver: u.MaxBindsPerType[2]}
	c.DefaultSource, c.SourceAddrs, c.Receipts = u.DefaultSource, u.SourceAddrs, u.Receipts
	l := &u.Limits
	c.Throughput, c.Burst, c.Balance = l.Throughput, l.Burst, l.Balance.String()
	c.Quota, c.QuotaUsed = l.Quota, l.QuotaUsed
	c.MaxValidity = config.Duration(l.MaxValidity)
	if l.MaxPriority != nil {
		c.MaxPriority = int(*l.MaxPriority)
	}
	return c
}

// prefixString writes a single address without "/32" or "/128", as an
// operator would.
func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
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
