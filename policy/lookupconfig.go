package policy

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/smppd/smppd/internal/units"
)

// LookupConfig is the policy file's [lookup] table: the number-portability
// (HLR) stage that maps a destination to its current network for the
// routes' networks filter. With neither ported_file nor url set the stage is
// off. Both may be set: the file is asked first, the service for numbers
// the file does not list.
type LookupConfig struct {
	// PortedFile lists ported numbers: "NUMBER NETWORK" or "PREFIX* NETWORK"
	// a line. Reloaded with the policy (SIGHUP); a bad file keeps the old.
	PortedFile string `toml:"ported_file"`
	// URL is the HTTP lookup service, http:// or https://, with "{number}"
	// where the destination's digits go. It answers 200 with
	// {"network":"NAME"}, or 404 when the number has no known network.
	URL string `toml:"url"`
	// Timeout bounds one request and how long a message waits for it;
	// past it the message takes Fallback. Default 300ms, 1ms..10s.
	Timeout units.Duration `toml:"timeout"`
	// CacheSize is how many answers are kept; default 100000,
	// 1024..10000000.
	CacheSize int `toml:"cache_size"`
	// CacheTTL is how long an answer is kept; default 24h, 1s..720h.
	CacheTTL units.Duration `toml:"cache_ttl"`
	// ErrorTTL is how long a failed or slow lookup's fallback is kept for
	// that number, and how long lookups pause after 10 failures in a row;
	// default 10s, 1s..1h.
	ErrorTTL units.Duration `toml:"error_ttl"`
	// Fallback is the network a message takes when the service failed or
	// was too slow: a network name, or "" (the default) for none (then
	// only routes without a networks filter match).
	Fallback string `toml:"fallback"`
	// MaxPending bounds the numbers waiting for the service; a new one past
	// it is refused ESME_RMSGQFUL. Default 10000, 1..1000000.
	MaxPending int `toml:"max_pending"`
	// Workers is how many requests run at once; default 16, 1..1024.
	Workers int `toml:"workers"`
}

// Lookup defaults.
const (
	DefaultLookupTimeout    = 300 * time.Millisecond
	DefaultLookupCacheSize  = 100_000
	DefaultLookupCacheTTL   = 24 * time.Hour
	DefaultLookupErrorTTL   = 10 * time.Second
	DefaultLookupMaxPending = 10_000
	DefaultLookupWorkers    = 16
)

// Enabled reports whether a lookup source is configured.
func (c *LookupConfig) Enabled() bool { return c.PortedFile != "" || c.URL != "" }

// Validate fills the defaults in and checks every key; an error names it
// as lookup.<key>.
func (c *LookupConfig) Validate() error {
	lkDefDur(&c.Timeout, DefaultLookupTimeout)
	lkDefDur(&c.CacheTTL, DefaultLookupCacheTTL)
	lkDefDur(&c.ErrorTTL, DefaultLookupErrorTTL)
	lkDefInt(&c.CacheSize, DefaultLookupCacheSize)
	lkDefInt(&c.MaxPending, DefaultLookupMaxPending)
	lkDefInt(&c.Workers, DefaultLookupWorkers)
	if err := lkDurIn("timeout", c.Timeout, time.Millisecond, 10*time.Second); err != nil {
		return err
	}
	if err := lkDurIn("cache_ttl", c.CacheTTL, time.Second, 720*time.Hour); err != nil {
		return err
	}
	if err := lkDurIn("error_ttl", c.ErrorTTL, time.Second, time.Hour); err != nil {
		return err
	}
	if err := lkIntIn("cache_size", c.CacheSize, 1024, 10_000_000); err != nil {
		return err
	}
	if err := lkIntIn("max_pending", c.MaxPending, 1, 1_000_000); err != nil {
		return err
	}
	if err := lkIntIn("workers", c.Workers, 1, 1024); err != nil {
		return err
	}
	if c.Fallback != "" && !validNetwork(c.Fallback) {
		return fmt.Errorf("lookup.fallback: %q is not 1..64 of A-Z a-z 0-9 _ . : -", c.Fallback)
	}
	if c.URL != "" {
		if strings.Count(c.URL, "{number}") != 1 {
			return fmt.Errorf("lookup.url: must hold \"{number}\" exactly once")
		}
		u, err := url.Parse(strings.Replace(c.URL, "{number}", "0", 1))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("lookup.url: %q is not an absolute http:// or https:// URL", c.URL)
		}
	}
	return nil
}

func lkDefDur(d *units.Duration, v time.Duration) {
	if *d == 0 {
		*d = units.Duration(v)
	}
}

func lkDefInt(i *int, v int) {
	if *i == 0 {
		*i = v
	}
}

func lkDurIn(key string, d units.Duration, lo, hi time.Duration) error {
	if d.D() < lo || d.D() > hi {
		return fmt.Errorf("lookup.%s: %s is outside %s..%s", key, d.D(), lo, hi)
	}
	return nil
}

func lkIntIn(key string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("lookup.%s: %d is outside %d..%d", key, v, lo, hi)
	}
	return nil
}
