package config

import (
	"time"

	"github.com/smppd/smppd/accounts"
)

// Defaults returns a configuration holding every default. Load decodes the
// file over it, so these are the values of keys the file leaves out. This is
// the only place defaults are set; docs/CONFIG.md lists the
// same values.
func Defaults() *Config {
	return &Config{
		Server: SMPPServer{
			ID:                   "smppd",
			Bind:                 "127.0.0.1",
			Port:                 2775,
			SessionInitTimerSecs: 30,
			EnquireLinkTimerSecs: 30,
			InactivityTimerSecs:  300,
			ResponseTimerSecs:    60,
			PDUReadTimerSecs:     30,
			LogLevel:             "info",
			LogFile:              "",
			LogFormat:            "json",
			LogDateFormat:        "",
			EventLoops:           0,
			// A 254-destination submit_multi with a 64 KiB message_payload
			// TLV is about 70 KiB; 96 KiB leaves room for other TLVs.
			MaxPDULen:              96 << 10,
			MaxInFlight:            2000,
			QueueFullWait:          Duration(time.Second),
			DeliverWindow:          100,
			MaxConnections:         50000,
			MaxConnectionsPerIP:    5000,
			MaxOutboundBacklog:     4 << 20,
			MaxOutboundUnbound:     64 << 10,
			MaxOutboundTotal:       256 << 20,
			MaxInboundBuffer:       256 << 10,
			MaxUnexpectedResponses: 16,
			SlowConsumerTimeout:    Duration(10 * time.Second),
			LogRateLimit:           50,
			ShutdownGrace:          Duration(10 * time.Second),
			Tick:                   Duration(10 * time.Millisecond),
			NodeID:                 0,
			TracePDUs:              false,
			JasminCompatStatus:     false,
			UsersFile:              "",
			TLS: TLS{
				Enabled:    false,
				Bind:       "",
				Port:       3550,
				MinVersion: "1.2",
				ClientAuth: ClientAuthNone,
				// A handshake takes a few round trips: seconds are plenty,
				// and a slot held longer is one an attacker keeps for free.
				HandshakeTimeout: Duration(5 * time.Second),
				WriteTimeout:     Duration(30 * time.Second),
			},
		},
		BindLimits: BindLimits{
			FailWindow: Duration(time.Minute),
			SlowAfter:  5,
			SlowDelay:  Duration(time.Second),
			BlockAfter: 20,
			BlockFor:   Duration(5 * time.Minute),
			MaxKeys:    65536,
			// An address guessing many system_ids is blocked later than one
			// pair, so that one misconfigured ESME does not lock out the
			// others behind the same NAT address.
			AddressBlockAfter: 100,
			// One eighth of the engine's 1,024-bind auth queue.
			MaxPendingPerAddress: 128,
		},
		Auth: Auth{
			CacheTTL:  Duration(5 * time.Minute),
			CacheSize: 10000,
			Workers:   4,
		},
		Delivery: Delivery{
			// Days rather than Jasmin's two minutes of retries: an ESME that
			// is away over a weekend still gets its receipts and MO.
			HoldLifetime:      Duration(72 * time.Hour),
			MaxHeld:           100000,
			RetryMin:          Duration(5 * time.Second),
			RetryMax:          Duration(5 * time.Minute),
			ReassembleMO:      true,
			ReassemblyTimeout: Duration(60 * time.Second),
			ReceiptIDFormat:   "hex",
			ReceiptTimeZone:   "UTC",
			DefaultValidity:   Duration(48 * time.Hour),
		},
		Storage: Storage{
			Kind: StorageDisk,
			Dir:  "var/smppd",
			Sync: SyncAlways,
			// An interval sync bounds what a host crash loses; 10 ms is a
			// few fsyncs' time on an SSD, so it batches without a long window.
			SyncInterval:   Duration(10 * time.Millisecond),
			MaxDisk:        8 << 30,
			MessageTTL:     Duration(72 * time.Hour),
			MaxRecords:     1000000,
			MaxUpstreamIDs: 1000000,
		},
		Admin: Admin{
			Enabled:       false,
			Bind:          "127.0.0.1",
			Port:          8790,
			Token:         "",
			AllowInsecure: false,
			// A file of a few thousand changes; a quarter of a year covers
			// a billing dispute.
			AuditMaxFile:   16 << 20,
			AuditRetention: Duration(90 * 24 * time.Hour),
		},
		HTTPAPI: HTTPAPI{
			Enabled:             false,
			Bind:                "127.0.0.1",
			Port:                1401, // Jasmin's
			LongContentMaxParts: 5,    // Jasmin's
			LongContentSplit:    SplitUDH,
			MaxBody:             2 << 20,
			ReadTimeout:         Duration(10 * time.Second),
			// Above the longest commit wait a durable store imposes.
			WriteTimeout:    Duration(30 * time.Second),
			IdleTimeout:     Duration(60 * time.Second),
			MaxConnections:  4096,
			IdempotencyKeys: 100000,
			IdempotencyTTL:  Duration(24 * time.Hour),
		},
		Webhook: DefaultWebhook(),
		CDR:     DefaultCDR(),
		Cluster: DefaultCluster(),
		// Off: no peer is trusted to name another address.
		ProxyProtocol: DefaultProxyProtocol(),
		// smppd runs usefully with no upstream: the simulator accepts every
		// message and sends receipts.
		Connectors: []Connector{DefaultSimConnector()},
	}
}

// DefaultSimConnector is the connector used when the file configures none:
// the simulator with its kind's default settings.
func DefaultSimConnector() Connector {
	c := DefaultConnector()
	c.Name, c.Type = "sim", "sim"
	return c
}

// DefaultConnector returns the values a [[connector]] table starts from.
func DefaultConnector() Connector {
	return Connector{Queue: 65536}
}

// DefaultMTRoute is the MT route Validate adds when the file has none:
// everything to connector.
func DefaultMTRoute(connector string) MTRoute {
	return MTRoute{Name: "default", Kind: "default", Connectors: []string{connector}}
}

// DefaultGroup returns the values a [[group]] table starts from.
func DefaultGroup() Group {
	return Group{Enabled: true}
}

// DefaultUser returns the values a [[user]] table starts from: accounts'
// DefaultSpec, which the operations API applies too.
func DefaultUser() User {
	s := accounts.DefaultSpec()
	return UserFromSpec(&s)
}

// defaultUsersFile is looked for beside the config when users_file is "".
const defaultUsersFile = "users.toml"
