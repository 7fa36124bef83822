package config

import "time"

// Delivery is [delivery]: receipts and MO on their way to ESMEs, and the
// message validity smppd applies.
type Delivery struct {
	// HoldLifetime is how long a receipt or MO waits for its user to bind
	// a receiver or transceiver (and between retries), counted from when
	// it was created; then it is counted and logged as expired.
	HoldLifetime Duration `toml:"hold_lifetime"`
	// MaxHeld bounds the receipts and MO held for all users together.
	MaxHeld int `toml:"max_held"`
	// MaxHeldPerUser is each user's share of MaxHeld (a user's or its
	// group's own max_held_per_user wins); 0 = 10% of MaxHeld. See
	// HeldShare.
	MaxHeldPerUser int `toml:"max_held_per_user"`
	// RetryMin and RetryMax bound the deliver_sm retry backoff after a
	// temporary error or a timeout (doubling from min to max).
	RetryMin Duration `toml:"retry_min"`
	RetryMax Duration `toml:"retry_max"`
	// ReassembleMO joins concatenated MO into one deliver_sm; false passes
	// the parts through.
	ReassembleMO bool `toml:"reassemble_mo"`
	// ReassemblyTimeout is how long MO parts wait for the rest.
	ReassemblyTimeout Duration `toml:"reassembly_timeout"`
	// ReceiptIDFormat is "hex" or "decimal": how the id: field of receipt
	// texts is written (receipted_message_id stays hex).
	ReceiptIDFormat string `toml:"receipt_id_format"`
	// ReceiptTimeZone is the IANA zone of the dates in receipt texts
	// ("UTC", "Local", "Europe/Paris"); Validate stores it in
	// ReceiptLocation.
	ReceiptTimeZone string         `toml:"receipt_time_zone"`
	ReceiptLocation *time.Location `toml:"-"`
	// DefaultValidity applies to submits with an empty validity_period:
	// how long smppd keeps trying to hand the message upstream.
	DefaultValidity Duration `toml:"default_validity"`
}

// HeldShare is max_held_per_user resolved: its value, or 10% of max_held
// (at least 1) when it is 0.
func (d *Delivery) HeldShare() int {
	if d.MaxHeldPerUser > 0 {
		return d.MaxHeldPerUser
	}
	return max(d.MaxHeld/10, 1)
}

// Admin is [admin]: the operator's HTTP listener (MO injection and the
// operations API).
type Admin struct {
	Enabled bool   `toml:"enabled"`
	Bind    string `toml:"bind"` // IP literal
	Port    int    `toml:"port"`
	// Token, when not "", must be sent as "Authorization: Bearer <token>".
	// "" = no authentication, allowed only on a loopback bind unless
	// AllowInsecure.
	Token         string `toml:"token"`
	AllowInsecure bool   `toml:"allow_insecure"`
	// AllowedHosts are the DNS names (or IP literals), without port, that
	// a request's Host header may carry besides "localhost", loopback
	// addresses and Bind (any IP literal when Bind is a wildcard); other
	// Hosts are refused (DNS rebinding). Lowercased by Validate.
	AllowedHosts []string `toml:"allowed_hosts"`
	// Pprof serves Go's profiler under /debug/pprof/ (behind the token).
	Pprof bool `toml:"pprof"`
	// Tokens are [[admin.tokens]]: named credentials with scopes, beside
	// (or instead of) Token, which is an operator token named "admin".
	Tokens []AdminToken `toml:"tokens"`
	// AuditDir holds the audit log. "" is <storage.dir>/audit with kind =
	// "disk" (Validate sets it) and memory only with kind = "memory".
	// Validate makes it absolute.
	AuditDir string `toml:"audit_dir"`
	// AuditMaxFile is the size past which the audit log starts a new file.
	AuditMaxFile Size `toml:"audit_max_file"`
	// AuditRetention deletes a finished audit file once its last entry is
	// this old; 0 keeps every file.
	AuditRetention Duration `toml:"audit_retention"`
}
