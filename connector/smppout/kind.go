package smppout

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Kind is the SMPP client's connector kind: [[connector]] type = "smpp"
// with its [connector.smpp] table (Settings), which is required.
var Kind = connector.Kind{
	Name:     "smpp",
	Settings: func() any { s := DefaultSettings(); return &s },
	Required: true,
	Validate: func(s any, c *connector.Check) { s.(*Settings).validate(c) },
	Build:    func(s any, b connector.Build) (connector.Connector, error) { return s.(*Settings).build(b) },
}

// Settings is the [connector.smpp] table: a client bound to an upstream
// SMSC.
type Settings struct {
	Host string `toml:"host"` // host name or IP literal; required
	Port int    `toml:"port"`

	TLS           bool   `toml:"tls"`             // connect over TLS
	TLSSkipVerify bool   `toml:"tls_skip_verify"` // accept any server certificate (tests only)
	TLSCAFile     string `toml:"tls_ca_file"`     // PEM roots instead of the system's; resolved against the config's directory

	SystemID string `toml:"system_id"` // 1..15 chars; required
	// Password is the upstream's credential (0..8 chars), or a reference
	// to it resolved by config ("file:<path>", "env:NAME"): keep it out of
	// the config file, or protect the file (mode 0600 or 0640).
	Password   string `toml:"password" secret:"true"`
	SystemType string `toml:"system_type"` // 0..12 chars

	// BindMode is "transceiver" or "tx+rx" (a transmitter plus a receiver).
	BindMode string `toml:"bind_mode"`
	// Binds is the number of transceivers, or of transmitter+receiver pairs.
	Binds int `toml:"binds"`
	// ClusterBinds bounds what Binds counts over every node of a cluster
	// together (the upstream's limit for the account): each live node
	// binds its share (connector.Build.BindShare), at most Binds; one node
	// alone binds min(Binds, ClusterBinds). 0 = each node binds Binds.
	ClusterBinds int `toml:"cluster_binds"`
	// Window is the submit_sm outstanding per bind.
	Window int `toml:"window"`
	// Throughput is the connector's submit_sm per second over all binds;
	// 0 = unlimited.
	Throughput float64 `toml:"throughput"`

	EnquireLink     connector.Duration `toml:"enquire_link"`     // idle time before enquire_link; 0 = never
	ResponseTimeout connector.Duration `toml:"response_timeout"` // wait for the upstream's responses
	ReconnectMin    connector.Duration `toml:"reconnect_min"`    // reconnect backoff, doubling from min to max
	ReconnectMax    connector.Duration `toml:"reconnect_max"`
	RetryMin        connector.Duration `toml:"retry_min"` // resubmit backoff after a temporary refusal or timeout
	RetryMax        connector.Duration `toml:"retry_max"`
	// DefaultValidity is how long a message that carries no expiry of its
	// own may wait here (Options.DefaultValidity); 0 = [delivery]
	// default_validity.
	DefaultValidity connector.Duration `toml:"default_validity"`
	// SupportsPayload: the upstream takes message_payload; when false,
	// payloads are split into concatenated short_message parts.
	SupportsPayload bool `toml:"supports_payload"`

	// SourceTON and SourceNPI, when set, replace the ESME's source_addr_ton
	// and source_addr_npi on upstream submits; nil = pass them through.
	SourceTON *int `toml:"source_ton"`
	SourceNPI *int `toml:"source_npi"`
}

// DefaultSettings returns what a [connector.smpp] table starts from.
func DefaultSettings() Settings {
	return Settings{
		Port:            2775,
		BindMode:        string(Transceiver),
		Binds:           1,
		Window:          10,
		EnquireLink:     connector.Duration(30 * time.Second),
		ResponseTimeout: connector.Duration(30 * time.Second),
		ReconnectMin:    connector.Duration(time.Second),
		ReconnectMax:    connector.Duration(60 * time.Second),
		RetryMin:        connector.Duration(time.Second),
		RetryMax:        connector.Duration(60 * time.Second),
		DefaultValidity: connector.Duration(48 * time.Hour),
		SupportsPayload: true,
	}
}

// npiValues are the numbering plan indicators of SMPP 3.4 §5.2.6.
var npiValues = map[int]bool{0: true, 1: true, 3: true, 4: true, 6: true, 8: true, 9: true, 10: true, 14: true, 18: true}

func (s *Settings) validate(c *connector.Check) {
	switch _, ipErr := netip.ParseAddr(s.Host); {
	case s.Host == "":
		c.Fail("host", "is required")
	case strings.HasPrefix(s.Host, "["):
		c.Fail("host", "write an IPv6 address without brackets, got %q", s.Host)
	case strings.Contains(s.Host, ":") && ipErr != nil:
		c.Fail("host", "must be a host name or IP address without a port (the port goes in port), got %q", s.Host)
	case !msg.PrintableNoSpace(s.Host):
		c.Fail("host", "must not contain spaces or control characters, got %q", s.Host)
	}
	c.IntRange("port", s.Port, 1, 65535)
	if s.TLSSkipVerify && !s.TLS {
		c.Fail("tls_skip_verify", "has no effect without tls = true")
	}
	if s.TLSSkipVerify {
		c.Warn("tls_skip_verify", "the upstream's certificate is not checked: anyone on the path can read and change the traffic")
	}
	if s.TLSCAFile != "" {
		if !s.TLS {
			c.Fail("tls_ca_file", "has no effect without tls = true")
		}
		if c.Resolve != nil {
			s.TLSCAFile = c.Resolve(s.TLSCAFile)
		}
		// What the build does, so -check-config and the admin API's check
		// refuse a file the connector cannot start with.
		if s.TLS {
			if _, err := s.tlsConfig(); err != nil {
				c.Fail("tls_ca_file", "%v", err)
			}
		} else if _, err := os.Stat(s.TLSCAFile); err != nil {
			c.Fail("tls_ca_file", "%v", err)
		}
	}
	if n := len(s.SystemID); n < 1 || n > 15 || !msg.PrintableNoSpace(s.SystemID) {
		c.Fail("system_id", "must be 1..15 printable ASCII characters without spaces, got %q", s.SystemID)
	}
	// SMPP 3.4 §4.1.1: password 9 octets and system_type 13, with the NUL.
	if len(s.Password) > 8 || !msg.NoControl(s.Password) {
		c.Fail("password", "must be at most 8 characters without control characters (SMPP 3.4 bind password)")
	}
	if len(s.SystemType) > 12 || !msg.NoControl(s.SystemType) {
		c.Fail("system_type", "must be at most 12 characters without control characters, got %q", s.SystemType)
	}
	switch BindMode(s.BindMode) {
	case Transceiver, TxRx:
	default:
		c.Fail("bind_mode", "must be \"transceiver\" or \"tx+rx\", got %q", s.BindMode)
	}
	c.IntRange("binds", s.Binds, 1, 64)
	c.IntRange("cluster_binds", s.ClusterBinds, 0, 4096)
	c.IntRange("window", s.Window, 1, 65536)
	if !(s.Throughput >= 0) || math.IsInf(s.Throughput, 1) || s.Throughput > 1e9 {
		c.Fail("throughput", "must be a number of submit_sm per second, 0 (unlimited) to 1e9, got %v", s.Throughput)
	}
	if s.ResponseTimeout <= 0 {
		c.Fail("response_timeout", "must be > 0")
	}
	c.Backoff("reconnect_min", "reconnect_max", s.ReconnectMin, s.ReconnectMax)
	c.Backoff("retry_min", "retry_max", s.RetryMin, s.RetryMax)
	if s.SourceTON != nil {
		c.IntRange("source_ton", *s.SourceTON, 0, 6)
	}
	if s.SourceNPI != nil && !npiValues[*s.SourceNPI] {
		c.Fail("source_npi", "%d is not an SMPP 3.4 NPI (0, 1, 3, 4, 6, 8, 9, 10, 14, 18)", *s.SourceNPI)
	}
}

func (s *Settings) build(b connector.Build) (connector.Connector, error) {
	o := Options{
		Name: b.Name, ID: b.ID, Queue: b.Queue,
		Host: s.Host, Port: s.Port,
		SystemID: s.SystemID, Password: s.Password, SystemType: s.SystemType,
		BindMode: BindMode(s.BindMode), Binds: s.Binds, Window: s.Window,
		Throughput:      s.Throughput,
		EnquireLink:     s.EnquireLink.D(),
		ResponseTimeout: s.ResponseTimeout.D(),
		ReconnectMin:    s.ReconnectMin.D(), ReconnectMax: s.ReconnectMax.D(),
		RetryMin: s.RetryMin.D(), RetryMax: s.RetryMax.D(),
		DefaultValidity: s.DefaultValidity.D(),
		SupportsPayload: s.SupportsPayload,
		IDMap:           b.IDMap,
		Parker:          b.Parker,
		Logger:          b.Log,
	}
	if o.DefaultValidity == 0 {
		o.DefaultValidity = b.DefaultValidity
	}
	if limit := s.ClusterBinds; limit > 0 {
		perBind := 1
		if o.BindMode == TxRx {
			perBind = 2
		}
		share := b.BindShare
		if share == nil { // one node: the whole limit
			share = func(limit, _ int) int { return limit }
		}
		o.BindGate = func() int { return share(limit, perBind) }
	}
	if s.SourceTON != nil {
		o.SourceTON = uint8Of(*s.SourceTON)
	}
	if s.SourceNPI != nil {
		o.SourceNPI = uint8Of(*s.SourceNPI)
	}
	if s.TLS {
		tc, err := s.tlsConfig()
		if err != nil {
			return nil, err
		}
		o.TLS = tc
	}
	return New(o)
}

func uint8Of(v int) *uint8 {
	u := uint8(v)
	return &u
}

// tlsConfig is the client side of an upstream TLS connection.
func (s *Settings) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{ServerName: s.Host, InsecureSkipVerify: s.TLSSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // tls_skip_verify is an explicit operator choice for tests
	if s.TLSCAFile != "" {
		pem, err := os.ReadFile(s.TLSCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errors.New("smppout: no PEM certificate in " + s.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
