package config

import (
	"errors"
	"strconv"
	"strings"

	"github.com/smppd/smppd/internal/units"
)

// Duration is a time.Duration written as a Go duration string ("30s"); a
// bare integer and a negative value are refused (internal/units).
type Duration = units.Duration

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
