// Package config loads smppd's TOML configuration into one immutable, typed
// tree. Decoding is strict: an unknown key, a key in the wrong case or a value
// of the wrong type is an error that names the key and its line. Defaults are
// applied in one place (Defaults, DefaultUser) before decoding, so a key the
// file leaves out keeps its default and a key the file sets to zero is zero.
// Cross-field rules are checked by Validate.
//
// The [smpp-server] table keeps the key names Jasmin operators know
// (sessionInitTimerSecs, log_level, ...); keys that are ours are snake_case.
// Every key, its default and what zero means is documented in docs/CONFIG.md.
//
// A *Config is never modified after Load returns: to reload, call Load again
// and swap the pointer, as nats-server reloads its options. Packages receive
// typed values mapped from it by cmd/smppd, never the tree itself.
package config

import (
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/smppd/smppd/accounts"
)

// Config is one loaded configuration file (plus its users file).
type Config struct {
	Server     SMPPServer `toml:"smpp-server"`
	BindLimits BindLimits `toml:"bind-limits"`
	Auth       Auth       `toml:"auth"`
	Delivery   Delivery   `toml:"delivery"`
	Storage    Storage    `toml:"storage"`
	Admin      Admin      `toml:"admin"`
	HTTPAPI    HTTPAPI    `toml:"http-api"`
	CDR        CDR        `toml:"cdr"`
	Webhook    Webhook    `toml:"webhook"`
	Cluster    Cluster    `toml:"cluster"`
	Policy     Policy     `toml:"policy"`

	// ProxyProtocol is [proxy-protocol] (proxy.go).
	ProxyProtocol ProxyProtocol `toml:"proxy-protocol"`
	// Users holds the inline [[user]] tables followed by those of the
	// users file. System ids are unique across both.
	Users []User `toml:"user"`
	// Groups holds the inline [[group]] tables followed by those of the
	// users file. Names are unique across both.
	Groups []Group `toml:"group"`
	// Connectors are the upstreams, in file order (their routing ids are
	// stable, kept apart: cmd/smppd/connids.go). With no [[connector]] in
	// the file, Defaults' single simulator named "sim"; with a connectors
	// file, its connectors (connectorsfile.go).
	Connectors []Connector `toml:"connector"`
	// MTRoutes are the ordered MT routes; with none in the file, Validate
	// adds DefaultMTRoute to the first connector.
	MTRoutes []MTRoute `toml:"mt_route"`
	// MORoutes are the ordered MO routes; none by default.
	MORoutes []MORoute `toml:"mo_route"`

	// Path is the file Load read, as given.
	Path string `toml:"-"`
	// UsersPath is the users file that was read ("" if none).
	UsersPath string `toml:"-"`
	// ConnectorsPath is the connectors file (connectors_file resolved),
	// whether or not it exists; ConnectorsFromFile says it did and its
	// connectors are Connectors.
	ConnectorsPath     string `toml:"-"`
	ConnectorsFromFile bool   `toml:"-"`
	// InlineUsers and InlineGroups count the Users and Groups that came
	// from the main file (they come first); the rest are the users file's,
	// which is what SaveUsers writes back.
	InlineUsers  int `toml:"-"`
	InlineGroups int `toml:"-"`
	// Warnings lists settings that are legal but probably unintended
	// (for example enquireLinkTimerSecs >= inactivityTimerSecs). cmd/smppd
	// logs them at warn level.
	Warnings []string `toml:"-"`

	pos map[string]srcPos // where each key was written, for Validate's errors
}

// SMPPServer is the [smpp-server] table. The camelCase *Secs keys and the
// log_* keys are Jasmin's names and units (whole seconds).
type SMPPServer struct {
	// ID is the server's system_id, sent in every bind_*_resp. 1..15 chars
	// (SMPP 3.4 §5.2.1: 16 octets with the NUL).
	ID   string `toml:"id"`
	Bind string `toml:"bind"` // listen address (IPv4 or IPv6 literal)
	Port int    `toml:"port"` // 1..65535

	SessionInitTimerSecs int `toml:"sessionInitTimerSecs"` // > 0: an unbound session is closed after this
	EnquireLinkTimerSecs int `toml:"enquireLinkTimerSecs"` // 0 = never send enquire_link
	InactivityTimerSecs  int `toml:"inactivityTimerSecs"`  // 0 = no inactivity limit
	ResponseTimerSecs    int `toml:"responseTimerSecs"`    // > 0: wait for the ESME's response
	PDUReadTimerSecs     int `toml:"pduReadTimerSecs"`     // > 0: a started PDU must complete within this

	// LogLevel is trace|debug|info|warn|error (Jasmin's DEBUG, INFO,
	// WARNING, ERROR and CRITICAL are accepted too); normalised to lower case
	// zerolog names by Validate.
	LogLevel string `toml:"log_level"`
	// LogFile is a path, or "" / "stderr" / "stdout" for those streams.
	LogFile string `toml:"log_file"`
	// LogFormat is "json" or "console".
	LogFormat string `toml:"log_format"`
	// LogDateFormat is a Go time layout or a strftime pattern such as
	// Jasmin's "%Y-%m-%d %H:%M:%S"; "" means RFC 3339 with milliseconds.
	// Validate stores the Go layout in LogTimeLayout.
	LogDateFormat string `toml:"log_date_format"`
	// LogTimeLayout is the Go time layout derived from LogDateFormat.
	LogTimeLayout string `toml:"-"`
	// LogPrivacy masks the middle digits of numbers in log lines
	// (Jasmin's key: there it hides content, which no line of ours shows).
	LogPrivacy bool `toml:"log_privacy"`

	EventLoops          int      `toml:"event_loops"`            // 0 = one per core
	MaxPDULen           Size     `toml:"max_pdu_len"`            // bytes, command_length limit
	MaxInFlight         int      `toml:"max_in_flight"`          // per-session submits awaiting our response
	QueueFullWait       Duration `toml:"queue_full_wait"`        // a session waits this long for room in a full connector queue; 0 = never
	DeliverWindow       int      `toml:"deliver_window"`         // per-session outstanding deliver_sm
	MaxConnections      int      `toml:"max_connections"`        // total; 0 = unlimited
	MaxConnectionsPerIP int      `toml:"max_connections_per_ip"` // 0 = unlimited
	MaxOutboundBacklog  Size     `toml:"max_outbound_backlog"`   // bytes queued to a slow reader before close
	// Hostile-input bounds (docs/OPERATIONS.md, Limits and attacks).
	MaxOutboundUnbound     Size     `toml:"max_outbound_unbound"`     // bytes queued to a peer that has not bound, before close
	MaxOutboundTotal       Size     `toml:"max_outbound_total"`       // bytes queued to all peers together
	MaxInboundBuffer       Size     `toml:"max_inbound_buffer"`       // unread input one connection may hold
	MaxUnexpectedResponses int      `toml:"max_unexpected_responses"` // responses in a row answering nothing we sent, before close
	SlowConsumerTimeout    Duration `toml:"slow_consumer_timeout"`    // a receiver answering no deliver_sm this long is closed; 0 = never
	LogRateLimit           int      `toml:"log_rate_limit"`           // per-connection log lines per second, per kind
	ShutdownGrace          Duration `toml:"shutdown_grace"`           // 0 = close at once on SIGTERM
	Tick                   Duration `toml:"tick"`                     // timer wheel tick
	NodeID                 int      `toml:"node_id"`                  // 0..4095, part of every message id
	TracePDUs              bool     `toml:"trace_pdus"`               // log every PDU at debug level
	// ReusePort sets SO_REUSEPORT on the SMPP listeners so that a new
	// smppd started with -lock-wait listens beside this one and takes over
	// (an upgrade without a refused connection; docs/OPERATIONS.md). Off,
	// a second smppd on the same port fails with "address already in use".
	ReusePort bool `toml:"reuse_port"`
	// JasminCompatStatus answers refusals with Jasmin's statuses instead
	// of ours (balance or quota: ESME_RSYSERR instead of ESME_RSUBMITFAIL;
	// priority without the right: ESME_RINVSYSID); see docs/CONFIG.md.
	JasminCompatStatus bool `toml:"jasmin_compat_status"`
	// UsersFile is the users TOML. Relative paths are relative to the
	// directory of the main config file. "" means "users.toml" beside the
	// config if that file exists (and no users file otherwise).
	UsersFile string `toml:"users_file"`
	// ConnectorsFile holds the [[connector]] tables when it exists, in
	// place of the main file's: the admin API writes its connector changes
	// there (connectorsfile.go). Relative to the main config's directory;
	// "" means "<config name>.connectors.toml" beside the config
	// (smppd.connectors.toml for smppd.toml).
	ConnectorsFile string `toml:"connectors_file"`

	TLS TLS `toml:"tls"`
}

// TLS is [smpp-server.tls], the optional SMPP-over-TLS listener.
type TLS struct {
	Enabled bool   `toml:"enabled"`
	Bind    string `toml:"bind"` // "" = same as [smpp-server] bind
	Port    int    `toml:"port"` // IANA's smpp-over-TLS port 3550
	// CertFile and KeyFile are PEM files: paths, "file:<path>" or
	// "env:NAME" with the PEM in the variable (SecretFile). Validate reads
	// them into Certificate; a SIGHUP's Load reads them again.
	CertFile string `toml:"cert_file"`
	KeyFile  string `toml:"key_file"`
	// ClientAuth is ClientAuthNone, ClientAuthRequest (verify a client
	// certificate when one is sent) or ClientAuthRequire; Validate stores
	// the crypto/tls value in ClientAuthType.
	ClientAuth     string             `toml:"client_auth"`
	ClientAuthType tls.ClientAuthType `toml:"-"`
	// ClientCAFile holds the PEM CAs client certificates must chain to
	// (SecretFile syntax); read into ClientCAs.
	ClientCAFile string         `toml:"client_ca_file"`
	ClientCAs    *x509.CertPool `toml:"-"`
	// Certificate is the pair of CertFile and KeyFile as Validate read and
	// matched them (Leaf set); nil when TLS is off.
	Certificate *tls.Certificate `toml:"-"`
	// MinVersion is "1.2" or "1.3"; Validate stores the crypto/tls
	// constant in MinVersionID.
	MinVersion   string `toml:"min_version"`
	MinVersionID uint16 `toml:"-"`
	// HandshakeTimeout bounds a TLS handshake from accept (the connection
	// holds a max_connections_per_ip slot meanwhile).
	HandshakeTimeout Duration `toml:"handshake_timeout"`
	// WriteTimeout: a TLS peer that takes none of our bytes for this long
	// is disconnected.
	WriteTimeout Duration `toml:"write_timeout"`
}

// BindLimits is [bind-limits]: failed-bind throttling, counted per source
// address, per (address, system_id) pair and per system_id (a system_id
// alone is only slowed, never blocked), and the per-address share of the
// bind checks waiting for the auth workers.
type BindLimits struct {
	FailWindow Duration `toml:"fail_window"` // failures older than this are forgotten
	SlowAfter  int      `toml:"slow_after"`  // failures of any key in the window before each bind is delayed; 0 = never delay
	SlowDelay  Duration `toml:"slow_delay"`  // the delay
	BlockAfter int      `toml:"block_after"` // failures of an (address, system_id) pair before its binds are refused; 0 = never block
	BlockFor   Duration `toml:"block_for"`   // how long a blocked pair or address stays blocked
	MaxKeys    int      `toml:"max_keys"`    // tracked addresses, pairs and system_ids each; oldest evicted
	// AddressBlockAfter: failures from one address, any system_ids, before
	// all its binds are refused; 0 = never block an address.
	AddressBlockAfter int `toml:"address_block_after"`
	// MaxPendingPerAddress caps the binds of one address waiting for or at
	// the auth workers; more are refused ESME_RBINDFAIL.
	MaxPendingPerAddress int `toml:"max_pending_per_address"`
}

// Auth is [auth]: the verified-credential cache and the bind workers.
type Auth struct {
	CacheTTL  Duration `toml:"cache_ttl"`  // 0 = no cache
	CacheSize int      `toml:"cache_size"` // entries; 0 = no cache
	Workers   int      `toml:"workers"`    // goroutines checking passwords off the event loops
}

// User is one [[user]] table.
type User struct {
	SystemID string `toml:"system_id"` // 1..15 chars
	// PasswordHash is "$pbkdf2-sha256$<iter>$<b64 salt>$<b64 hash>" as
	// printed by `smppd passwd`.
	PasswordHash string `toml:"password_hash"`
	Enabled      bool   `toml:"enabled"`
	// BindTypes is a subset of transmitter, receiver, transceiver.
	BindTypes []string `toml:"bind_types"`
	MaxBinds  int      `toml:"max_binds"` // all bind types together; 0 = unlimited
	// AllowIPs is a list of CIDRs or bare addresses; empty = any address.
	AllowIPs []string `toml:"allow_ips"`
	// Account is the user as accounts.ParseUsers read it (Validate): what
	// the accounts Store is given.
	Account accounts.User `toml:"-"`

	// Group names a [[group]]; "" = no group. A disabled group disables
	// the binds of all its users.
	Group string `toml:"group"`
	// MaxBindsPerType limits binds per bind type, on top of MaxBinds.
	MaxBindsPerType BindsPerType `toml:"max_binds_per_type"`
	// DefaultSource is the source_addr given to submits that leave it
	// empty ("" = none); it must pass SourceAddrs.
	DefaultSource string `toml:"default_source"`
	// SourceAddrs are the source_addr values the user may send from:
	// "exact", "prefix*" ("*" = any) or "re:<RE2>" matching the whole
	// address, as accounts compiles them. Empty = any.
	SourceAddrs []string `toml:"source_addrs"`
	// Receipts: the user may ask for receipts (registered_delivery != 0).
	Receipts bool `toml:"receipts"`
	// Auth is what a bind proves: "password" (the default), "cert" (a
	// verified TLS client certificate pinned by CertSubjects or
	// CertFingerprints; password_hash may be left out) or "password+cert".
	Auth             string   `toml:"auth"`
	CertSubjects     []string `toml:"cert_subjects"`     // "CN=esme1,O=Acme" (RFC 2253, exact)
	CertFingerprints []string `toml:"cert_fingerprints"` // SHA-256 of the DER certificate, hex
	// Deny lists the HTTP API rights the user lacks, by Jasmin's names
	// (http_send, http_balance, http_rate, http_long_content,
	// http_set_dlr_method, set_hex_content, set_schedule_delivery_time);
	// empty = all granted.
	Deny []string `toml:"deny"`
	// APIKeyHash is the hash of the user's HTTP API key, as printed by
	// `smppd apikey`; "" = no key.
	APIKeyHash string `toml:"api_key_hash"`
	// CallbackSecret signs the user's receipt callbacks to a dlr-url
	// (X-Smppd-Signature), 16..1024 octets, or a "file:"/"env:" reference;
	// "" = unsigned.
	CallbackSecret string `toml:"callback_secret"`
	// Throughput is the sustained rate in message parts per second;
	// 0 = unlimited.
	Throughput float64 `toml:"throughput"`
	// Burst is how many parts may go back to back; 0 = ceil(throughput).
	Burst int `toml:"burst"`
	// Balance is "unlimited" or a non-negative decimal with at most 6
	// decimals, charged per part at the route's rate.
	Balance string `toml:"balance"`
	// Quota is the number of parts the user may send in all; 0 = unlimited.
	Quota int64 `toml:"quota"`
	// QuotaUsed is how many of them are used; smppd writes it back.
	QuotaUsed int64 `toml:"quota_used"`
	// MaxValidity is the longest validity period a submit may ask for;
	// 0 = unlimited.
	MaxValidity Duration `toml:"max_validity"`
	// MaxPriority is the highest priority_flag allowed, 0..3.
	MaxPriority int `toml:"max_priority"`
	// MaxHeldPerUser is the user's share of the held receipts and MO;
	// 0 = its group's, else [delivery] max_held_per_user.
	MaxHeldPerUser int `toml:"max_held_per_user"`
}

// BindsPerType is a per-bind-type limit; 0 = unlimited for that type.
type BindsPerType struct {
	Transmitter int `toml:"transmitter"`
	Receiver    int `toml:"receiver"`
	Transceiver int `toml:"transceiver"`
}

// Group is one [[group]] table. Groups are named by users' group key and by
// MT routes' groups filter.
type Group struct {
	// Name is 1..64 of A-Z a-z 0-9 _ . : - and unique.
	Name    string `toml:"name"`
	Enabled bool   `toml:"enabled"`
	// MaxHeldPerUser is the held-item share of each of the group's users
	// that sets none; 0 = [delivery] max_held_per_user.
	MaxHeldPerUser int `toml:"max_held_per_user"`
}

// GroupEnabled reports whether the group called name is enabled; "" (no
// group) and unknown names count as enabled (Validate refuses the latter).
func (c *Config) GroupEnabled(name string) bool {
	for i := range c.Groups {
		if c.Groups[i].Name == name {
			return c.Groups[i].Enabled
		}
	}
	return true
}

// Durations as time.Duration, for the *Secs keys.

// SessionInit returns sessionInitTimerSecs as a duration.
func (s *SMPPServer) SessionInit() time.Duration { return secs(s.SessionInitTimerSecs) }

// EnquireLink returns enquireLinkTimerSecs as a duration (0 = off).
func (s *SMPPServer) EnquireLink() time.Duration { return secs(s.EnquireLinkTimerSecs) }

// Inactivity returns inactivityTimerSecs as a duration (0 = off).
func (s *SMPPServer) Inactivity() time.Duration { return secs(s.InactivityTimerSecs) }

// Response returns responseTimerSecs as a duration.
func (s *SMPPServer) Response() time.Duration { return secs(s.ResponseTimerSecs) }

// PDURead returns pduReadTimerSecs as a duration.
func (s *SMPPServer) PDURead() time.Duration { return secs(s.PDUReadTimerSecs) }

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
