package config

// Connector is one [[connector]] table: an upstream that MT routes send to.
// Exactly the sub-table of its Type may be present; Validate fills a
// missing [connector.sim] with DefaultSim, so after Load a "sim" connector
// always has Sim and an "smpp" one always has SMPP.
type Connector struct {
	// Name identifies the connector in routes, logs and metrics: 1..64 of
	// A-Z a-z 0-9 _ . : -, unique.
	Name string `toml:"name"`
	// Type is "sim" (the embedded simulator) or "smpp" (an upstream SMSC).
	Type string `toml:"type"`
	// Queue is the capacity of the connector's ring (rounded up to a power
	// of two); a submit that finds it full is answered ESME_RMSGQFUL or
	// goes to the route's failover.
	Queue int `toml:"queue"`

	Sim  *SimConnector  `toml:"sim"`
	SMPP *SMPPConnector `toml:"smpp"`
}

// SimConnector is [connector.sim]: the simulator accepts every message,
// reports a receipt later and echoes MO for some destinations.
type SimConnector struct {
	Latency      Duration `toml:"latency"`       // before a message is accepted; 0 = at once
	ReceiptDelay Duration `toml:"receipt_delay"` // from acceptance to the final receipt; 0 = at once
	// Outcomes are the percentages of final receipt states; they sum to 100.
	Outcomes Outcomes `toml:"outcomes"`
	// MOEchoPrefixes: an MT whose destination starts with one of these is
	// echoed back as an MO (source and destination swapped). Empty = none.
	MOEchoPrefixes []string `toml:"mo_echo_prefixes"`
	// Intermediate sends an intermediate (ENROUTE) notification before the
	// final receipt, for messages that ask for one.
	Intermediate bool `toml:"intermediate"`
	// Seed seeds the outcome draw, for repeatable runs; 0 = random.
	Seed int64 `toml:"seed"`
}

// Outcomes is the simulator's mix of final receipt states, in percent.
type Outcomes struct {
	Delivered     int `toml:"delivered"`     // DELIVRD
	Undeliverable int `toml:"undeliverable"` // UNDELIV
	Expired       int `toml:"expired"`       // EXPIRED
	Rejected      int `toml:"rejected"`      // REJECTD
}

// SMPPConnector is [connector.smpp]: a client bound to an upstream SMSC.
type SMPPConnector struct {
	Host string `toml:"host"` // host name or IP literal; required
	Port int    `toml:"port"`

	TLS           bool   `toml:"tls"`             // connect over TLS
	TLSSkipVerify bool   `toml:"tls_skip_verify"` // accept any server certificate (tests only)
	TLSCAFile     string `toml:"tls_ca_file"`     // PEM roots instead of the system's; resolved against the config's directory

	SystemID string `toml:"system_id"` // 1..15 chars; required
	// Password is the upstream's credential in plain text (0..8 chars):
	// protect the config file (mode 0600 or 0640).
	Password   string `toml:"password"`
	SystemType string `toml:"system_type"` // 0..12 chars

	// BindMode is "transceiver" or "tx+rx" (a transmitter plus a receiver).
	BindMode string `toml:"bind_mode"`
	// Binds is the number of transceivers, or of transmitter+receiver pairs.
	Binds int `toml:"binds"`
	// Window is the submit_sm outstanding per bind.
	Window int `toml:"window"`
	// Throughput is the connector's submit_sm per second over all binds;
	// 0 = unlimited.
	Throughput float64 `toml:"throughput"`

	EnquireLink     Duration `toml:"enquire_link"`     // idle time before enquire_link; 0 = never
	ResponseTimeout Duration `toml:"response_timeout"` // wait for the upstream's responses
	ReconnectMin    Duration `toml:"reconnect_min"`    // reconnect backoff, doubling from min to max
	ReconnectMax    Duration `toml:"reconnect_max"`
	RetryMin        Duration `toml:"retry_min"` // resubmit backoff after a temporary refusal or timeout
	RetryMax        Duration `toml:"retry_max"`
	// DefaultValidity is the validity_period put on upstream submits whose
	// ESME gave none; 0 = send none (the upstream's own default applies).
	DefaultValidity Duration `toml:"default_validity"`
	// SupportsPayload: the upstream takes message_payload; when false,
	// payloads are split into concatenated short_message parts.
	SupportsPayload bool `toml:"supports_payload"`

	// SourceTON and SourceNPI, when set, replace the ESME's source_addr_ton
	// and source_addr_npi on upstream submits; nil = pass them through.
	SourceTON *int `toml:"source_ton"`
	SourceNPI *int `toml:"source_npi"`
}
