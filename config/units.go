package config

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written in TOML as a Go duration string
// ("30s", "1m30s", "250ms"). A bare integer is rejected: the unit must be
// explicit (style.md §8.6). Negative durations are rejected.
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

// Size is a byte count written either as an integer (98304) or as a string
// with a binary unit ("96KiB", "4MiB"; also "KB"/"MB" meaning the same
// powers of 1024, "B" or none). Negative sizes are rejected.
type Size int64

// Int returns s as an int.
func (s Size) Int() int { return int(s) }

// UnmarshalText implements encoding.TextUnmarshaler. The TOML decoder hands
// integers to it as their decimal text.
func (s *Size) UnmarshalText(b []byte) error {
	str := strings.TrimSpace(string(b))
	num := strings.TrimRightFunc(str, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(str[len(num):])
	if num == "" {
		return errors.New("invalid size " + strconv.Quote(str) + " (use bytes, or e.g. \"96KiB\", \"4MiB\")")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return errors.New("invalid size " + strconv.Quote(str) + " (must be a non-negative byte count)")
	}
	var mul int64
	switch strings.ToLower(unit) {
	case "", "b":
		mul = 1
	case "k", "kb", "kib":
		mul = 1 << 10
	case "m", "mb", "mib":
		mul = 1 << 20
	case "g", "gb", "gib":
		mul = 1 << 30
	default:
		return errors.New("invalid size unit " + strconv.Quote(unit) + " (use B, KiB, MiB or GiB)")
	}
	if n > (1<<62)/mul {
		return errors.New("size " + strconv.Quote(str) + " is too large")
	}
	*s = Size(n * mul)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (s Size) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(s), 10), nil }
