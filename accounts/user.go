package accounts

import (
	"fmt"
	"net/netip"
)

// Prepare checks the user's own fields (SourceAddrs, DefaultSource,
// MaxBindsPerType, Limits), compiles SourceAddrs and builds fresh live
// counters for Limits (UserLimits.Prepare). The Store does this for every
// user it loads; call it yourself only for a User built outside a Store
// (tests). Not safe concurrently with any other use of u.
func (u *User) Prepare() error {
	if err := u.compile(); err != nil {
		return err
	}
	if err := u.Limits.Prepare(); err != nil {
		return fmt.Errorf("user %q: %w", u.SystemID, err)
	}
	return nil
}

// compile is Prepare without the live counters.
func (u *User) compile() error {
	u.src, u.compiled = nil, false
	src, err := compileSource(u.SourceAddrs)
	if err != nil {
		return fmt.Errorf("user %q: %w", u.SystemID, err)
	}
	for _, n := range u.MaxBindsPerType {
		if n < 0 {
			return fmt.Errorf("accounts: user %q has a negative max binds per type", u.SystemID)
		}
	}
	u.src, u.compiled = src, true
	if u.DefaultSource != "" && !u.SourceAllowed([]byte(u.DefaultSource)) {
		u.src, u.compiled = nil, false
		return fmt.Errorf("accounts: user %q: default_source %q is not allowed by source_addrs", u.SystemID, u.DefaultSource)
	}
	return nil
}

// own replaces u's reference fields with copies, so neither the caller's
// User nor the Store's record can change the other through them. Compiled
// patterns are immutable and stay shared.
func (u *User) own() {
	u.AllowIPs = append([]netip.Prefix(nil), u.AllowIPs...)
	u.CertSubjects = append([]string(nil), u.CertSubjects...)
	u.CertSHA256 = append([][32]byte(nil), u.CertSHA256...)
	u.SourceAddrs = append([]string(nil), u.SourceAddrs...)
	if p := u.Limits.MaxPriority; p != nil {
		v := *p
		u.Limits.MaxPriority = &v
	}
}
