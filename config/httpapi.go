package config

// HTTPAPI is [http-api]: the customers' HTTP API on a listener of its own,
// Jasmin-compatible (/send, /balance, /rate, /ping on Jasmin's port 1401)
// and JSON (/v1/messages). Users authenticate with their SMPP credentials
// (or an API key); what they send takes the same path as SMPP traffic.
type HTTPAPI struct {
	Enabled bool   `toml:"enabled"`
	Bind    string `toml:"bind"` // IP literal
	Port    int    `toml:"port"`
	// LongContentMaxParts is how many parts /send may split content into
	// (1..255); more is refused 400 (Jasmin cuts the rest off silently).
	LongContentMaxParts int `toml:"long_content_max_parts"`
	// LongContentSplit is how parts are tied together: "udh" (an 8-bit
	// reference concatenation UDH, esm_class UDHI) or "sar" (the sar_*
	// TLVs), as Jasmin's key.
	LongContentSplit string `toml:"long_content_split"`
	// MaxBody bounds a request body (a form, a JSON message or a batch);
	// a larger one is refused 413.
	MaxBody Size `toml:"max_body"`
	// ReadTimeout bounds reading a request, headers and body;
	// WriteTimeout bounds the handling and the answer; IdleTimeout is how
	// long a keep-alive connection may wait for its next request.
	ReadTimeout  Duration `toml:"read_timeout"`
	WriteTimeout Duration `toml:"write_timeout"`
	IdleTimeout  Duration `toml:"idle_timeout"`
	// MaxConnections bounds the connections open at once; more wait in
	// the kernel's accept queue.
	MaxConnections int `toml:"max_connections"`
	// IdempotencyKeys bounds the Idempotency-Key answers remembered (0 =
	// the header is ignored); each is kept IdempotencyTTL.
	IdempotencyKeys int      `toml:"idempotency_keys"`
	IdempotencyTTL  Duration `toml:"idempotency_ttl"`
}

// HTTP API long content split methods.
const (
	SplitUDH = "udh"
	SplitSAR = "sar"
)
