package config

import "time"

// CDR is [cdr]: the CDR stream, one JSON line per accepted MT message
// when it reaches its final state (docs/CDR.md), in rotated files.
type CDR struct {
	Enabled bool `toml:"enabled"`
	// Dir holds the files. "" = "cdr" under [storage] dir with kind =
	// "disk"; with kind = "memory" it must be set, or no CDRs are written
	// (a warning). Validate makes it absolute and sets Active.
	Dir string `toml:"dir"`
	// MaxFileSize: the file being written is closed before a line would
	// take it past this.
	MaxFileSize Size `toml:"max_file_size"`
	// MaxFileAge: the file being written is closed this long after its
	// first line.
	MaxFileAge Duration `toml:"max_file_age"`
	// Retention: a closed file is removed once its close is this old.
	Retention Duration `toml:"retention"`
	// QueueSize bounds the final states waiting for the writer; a final
	// state reported while it is full has no line (counted, logged).
	QueueSize int `toml:"queue_size"`
	// QueueHighWater is the share of QueueSize, in percent, past which new
	// MT is refused ESME_RTHROTTLED until the writer catches up; the rest
	// is headroom for the final states of messages already accepted.
	QueueHighWater int `toml:"queue_high_water"`
	// ReadyGrace is how long that refusal must have lasted before GET
	// /v1/ready answers 503 for it: MT is refused at once, readiness
	// ignores backlogs shorter than this (a load balancer would eject the
	// node for each).
	ReadyGrace Duration `toml:"ready_grace"`
	// MaskContent leaves the message text out of CDR lines and of the
	// admin API's message lookups.
	MaskContent bool `toml:"mask_content"`
	// Active is set by Validate: CDRs are written (Enabled, with a Dir).
	Active bool `toml:"-"`
}

// DefaultCDR returns [cdr]'s defaults: on, an hour or 64 MiB per file,
// kept 30 days.
func DefaultCDR() CDR {
	return CDR{
		Enabled:     true,
		MaxFileSize: 64 << 20,
		MaxFileAge:  Duration(time.Hour),
		Retention:   Duration(30 * 24 * time.Hour),
		QueueSize:   65536,
		// Half the queue: room for ~32k final states of what is in flight
		// when the mark is passed (docs/CDR.md, backpressure).
		QueueHighWater: 50,
		ReadyGrace:     Duration(time.Second),
	}
}
