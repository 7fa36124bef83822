package sim

import (
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
)

// Kind is the simulator's connector kind: [[connector]] type = "sim" with
// an optional [connector.sim] table (Settings).
var Kind = connector.Kind{
	Name:     "sim",
	Settings: func() any { s := DefaultSettings(); return &s },
	Validate: func(s any, c *connector.Check) { s.(*Settings).validate(c) },
	Build:    func(s any, b connector.Build) (connector.Connector, error) { return s.(*Settings).build(b) },
}

// Settings is the [connector.sim] table: the simulator accepts every
// message, reports a receipt later and echoes MO for some destinations.
type Settings struct {
	Latency      connector.Duration `toml:"latency"`       // before a message is accepted; 0 = at once
	ReceiptDelay connector.Duration `toml:"receipt_delay"` // from acceptance to the final receipt; 0 = at once
	// Outcomes are the percentages of final receipt states; they sum to 100.
	Outcomes SettingsOutcomes `toml:"outcomes"`
	// MOEchoPrefixes: an MT whose destination starts with one of these is
	// echoed back as an MO (source and destination swapped). Empty = none.
	MOEchoPrefixes []string `toml:"mo_echo_prefixes"`
	// Intermediate sends an intermediate (ENROUTE) notification before the
	// final receipt, for messages that ask for one.
	Intermediate bool `toml:"intermediate"`
	// Seed seeds the outcome draw, for repeatable runs; 0 = random.
	Seed int64 `toml:"seed"`
}

// SettingsOutcomes is the mix of final receipt states, in percent.
type SettingsOutcomes struct {
	Delivered     int `toml:"delivered"`     // DELIVRD
	Undeliverable int `toml:"undeliverable"` // UNDELIV
	Expired       int `toml:"expired"`       // EXPIRED
	Rejected      int `toml:"rejected"`      // REJECTD
}

// DefaultSettings returns what a [connector.sim] table starts from (and
// what a sim connector without one runs with).
func DefaultSettings() Settings {
	return Settings{ReceiptDelay: connector.Duration(time.Second), Outcomes: SettingsOutcomes{Delivered: 100}}
}

// Bounds the config allows (tighter than Options': an operator's typo of
// "1000h" is caught; the messages name them).
const (
	maxConfigLatency      = time.Hour
	maxConfigReceiptDelay = 24 * time.Hour
	// maxAddrLen is the longest destination_addr (SMPP 3.4 §5.2.9: 21
	// octets with the NUL): a longer prefix matches nothing.
	maxAddrLen = 20
)

func (s *Settings) validate(c *connector.Check) {
	if s.Latency.D() > maxConfigLatency {
		c.Fail("latency", "%v is longer than 1h", s.Latency)
	}
	if s.ReceiptDelay.D() > maxConfigReceiptDelay {
		c.Fail("receipt_delay", "%v is longer than 24h", s.ReceiptDelay)
	}
	o := s.Outcomes
	for _, f := range []struct {
		key string
		n   int
	}{{"delivered", o.Delivered}, {"undeliverable", o.Undeliverable}, {"expired", o.Expired}, {"rejected", o.Rejected}} {
		c.IntRange("outcomes."+f.key, f.n, 0, 100)
	}
	if sum := o.Delivered + o.Undeliverable + o.Expired + o.Rejected; sum != 100 {
		c.Fail("outcomes", "the percentages add up to %d, not 100 (a key left out keeps its default: delivered = 100, the others 0)", sum)
	}
	for _, pfx := range s.MOEchoPrefixes {
		if pfx == "" || len(pfx) > maxAddrLen || !msg.PrintableNoSpace(pfx) {
			c.Fail("mo_echo_prefixes", "%q must be 1..%d printable characters without spaces", pfx, maxAddrLen)
		}
	}
}

func (s *Settings) build(b connector.Build) (connector.Connector, error) {
	o := Options{
		ID:             b.ID,
		Queue:          b.Queue,
		Latency:        s.Latency.D(),
		ReceiptDelay:   s.ReceiptDelay.D(),
		MOEchoPrefixes: s.MOEchoPrefixes,
		Intermediate:   s.Intermediate,
		Seed:           s.Seed,
	}
	if o.ReceiptDelay == 0 { // the config's 0 is at once; Options' 0 is its 1s default
		o.ReceiptDelay = ReceiptsAtOnce
	}
	o.Outcomes[Delivered] = s.Outcomes.Delivered
	o.Outcomes[Undeliverable] = s.Outcomes.Undeliverable
	o.Outcomes[Expired] = s.Outcomes.Expired
	o.Outcomes[Rejected] = s.Outcomes.Rejected
	return New(b.Name, o)
}
