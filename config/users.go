package config

import (
	"strings"

	"github.com/smppd/smppd/accounts"
)

// Users and groups are checked by accounts (ParseUsers, CheckGroups), the
// rules the operations API and the Store apply too; config maps its tables
// onto accounts.UserSpec and the findings' keys onto file and line.

func (v *validator) groups() {
	var c accounts.Check
	accounts.CheckGroups(AccountGroups(v.c.Groups), &c)
	v.report(&c)
}

func (v *validator) users() {
	if len(v.c.Users) == 0 && !v.usersOnly {
		v.warn("no users are configured: every bind will be refused")
	}
	var known func(string) bool
	if !v.usersOnly { // else the groups may live in the main file
		names := make(map[string]bool, len(v.c.Groups))
		for _, g := range v.c.Groups {
			names[g.Name] = true
		}
		known = func(name string) bool { return names[name] }
	}
	specs := make([]accounts.UserSpec, len(v.c.Users))
	for i := range v.c.Users {
		specs[i] = v.c.Users[i].Spec()
	}
	var c accounts.Check
	parsed := accounts.ParseUsers(specs, known, &c)
	for i := range v.c.Users {
		v.c.Users[i].Account = parsed[i]
	}
	v.report(&c)
}

// report turns accounts' findings into errors at their file and line, and
// warnings.
func (v *validator) report(c *accounts.Check) {
	for _, p := range c.Problems {
		key := p.Key
		if k, ok := strings.CutSuffix(key, ".password_hash"); ok {
			if _, written := v.c.pos[key]; !written {
				key = k // a missing hash is the table's fault
			}
		}
		v.fail(key, "%s", p.Msg)
	}
	for _, w := range c.Warnings {
		v.warn("%s: %s", w.Key, w.Msg)
	}
}

// Spec is u as accounts reads a user definition.
func (u *User) Spec() accounts.UserSpec {
	return accounts.UserSpec{
		SystemID: u.SystemID, PasswordHash: u.PasswordHash, Enabled: u.Enabled, Group: u.Group,
		BindTypes: u.BindTypes, MaxBinds: u.MaxBinds,
		MaxBindsPerType: [3]int{u.MaxBindsPerType.Transmitter, u.MaxBindsPerType.Receiver, u.MaxBindsPerType.Transceiver},
		AllowIPs:        u.AllowIPs, DefaultSource: u.DefaultSource, SourceAddrs: u.SourceAddrs, Receipts: u.Receipts,
		Throughput: u.Throughput, Burst: u.Burst, Balance: u.Balance, Quota: u.Quota, QuotaUsed: u.QuotaUsed,
		MaxValidity: u.MaxValidity, MaxPriority: u.MaxPriority, MaxHeldPerUser: u.MaxHeldPerUser,
		Auth: u.Auth, CertSubjects: u.CertSubjects, CertFingerprints: u.CertFingerprints,
		Deny: u.Deny, APIKeyHash: u.APIKeyHash, CallbackSecret: u.CallbackSecret,
	}
}

// UserFromSpec is Spec's inverse: the [[user]] table that says s (Account
// is left for Validate to fill).
func UserFromSpec(s *accounts.UserSpec) User {
	return User{
		SystemID: s.SystemID, PasswordHash: s.PasswordHash, Enabled: s.Enabled, Group: s.Group,
		BindTypes: s.BindTypes, MaxBinds: s.MaxBinds,
		MaxBindsPerType: BindsPerType{Transmitter: s.MaxBindsPerType[0], Receiver: s.MaxBindsPerType[1], Transceiver: s.MaxBindsPerType[2]},
		AllowIPs:        s.AllowIPs, DefaultSource: s.DefaultSource, SourceAddrs: s.SourceAddrs, Receipts: s.Receipts,
		Throughput: s.Throughput, Burst: s.Burst, Balance: s.Balance, Quota: s.Quota, QuotaUsed: s.QuotaUsed,
		MaxValidity: s.MaxValidity, MaxPriority: s.MaxPriority, MaxHeldPerUser: s.MaxHeldPerUser,
		Auth: s.Auth, CertSubjects: s.CertSubjects, CertFingerprints: s.CertFingerprints,
		Deny: s.Deny, APIKeyHash: s.APIKeyHash, CallbackSecret: s.CallbackSecret,
	}
}

// AccountGroups is groups as the accounts Store takes them.
func AccountGroups(groups []Group) []accounts.Group {
	out := make([]accounts.Group, len(groups))
	for i, g := range groups {
		out[i] = accounts.Group{Name: g.Name, Enabled: g.Enabled, MaxHeldPerUser: g.MaxHeldPerUser}
	}
	return out
}
