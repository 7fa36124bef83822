// Package units holds the value types that smppd's TOML files share, so the
// main config and every connector kind's settings read them the same way.
package units

import (
	"errors"
	"strconv"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string
// ("30s", "1m30s", "250ms"). A bare integer is refused (the unit must be
// explicit), and so is a negative duration.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	v, err := time.ParseDuration(s)
	if err != nil {
		if _, nerr := strconv.ParseInt(s, 10, 64); nerr == nil {
			return errors.New("a duration needs a unit, e.g. \"" + s + "s\"")
		}
		return errors.New("invalid duration " + strconv.Quote(s) + " (use e.g. \"30s\", \"5m\", \"250ms\")")
	}
	if v < 0 {
		return errors.New("duration must not be negative")
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
