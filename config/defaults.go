package config

import "time"

// Defaults returns a configuration holding every default. Load decodes the
// file over it, so these are the values of keys the file leaves out. This is
// the only place defaults are set (style.md §8.2); docs/CONFIG.md lists the
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
			MaxPDULen:           96 << 10,
			MaxInFlight:         2000,
			DeliverWindow:       100,
			MaxConnections:      50000,
			MaxConnectionsPerIP: 5000,
			MaxOutboundBacklog:  4 << 20,
			ShutdownGrace:       Duration(10 * time.Second),
			Tick:                Duration(10 * time.Millisecond),
			NodeID:              0,
			TracePDUs:           false,
			UsersFile:           "",
			TLS: TLS{
				Enabled:    false,
				Bind:       "",
				Port:       3550,
				MinVersion: "1.2",
			},
		},
		BindLimits: BindLimits{
			FailWindow: Duration(time.Minute),
			SlowAfter:  5,
			SlowDelay:  Duration(time.Second),
			BlockAfter: 20,
			BlockFor:   Duration(5 * time.Minute),
			MaxKeys:    65536,
		},
		Auth: Auth{
			CacheTTL:  Duration(5 * time.Minute),
			CacheSize: 10000,
			Workers:   4,
		},
	}
}

// DefaultUser returns the values a [[user]] table starts from.
func DefaultUser() User {
	return User{
		Enabled:   true,
		BindTypes: []string{"transmitter", "receiver", "transceiver"},
		MaxBinds:  0,
	}
}

// defaultUsersFile is looked for beside the config when users_file is "".
const defaultUsersFile = "users.toml"
