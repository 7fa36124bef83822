package units

import (
	"errors"
	"strconv"
	"strings"
)

// Size is a byte count written in TOML either as an integer (98304) or as a
// string with a binary unit: "96KiB", "4MiB", "8GiB", "2TiB" ("K"/"KB",
// "M"/"MB", "G"/"GB" and "T"/"TB" mean the same powers of 1024; "B" or no
// unit means bytes). A negative size, a fraction and a value above 2^62 are
// refused.
type Size int64

// Int returns s as an int.
func (s Size) Int() int { return int(s) }

// maxSize keeps every Size, and sums of a few of them, inside an int64.
const maxSize = 1 << 62

// UnmarshalText implements encoding.TextUnmarshaler. The TOML decoder hands
// integers to it as their decimal text.
func (s *Size) UnmarshalText(b []byte) error {
	str := strings.TrimSpace(string(b))
	num := strings.TrimRightFunc(str, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.TrimSpace(str[len(num):])
	if num == "" {
		return errors.New("invalid size " + strconv.Quote(str) + " (use bytes, or e.g. \"96KiB\", \"4MiB\", \"8GiB\")")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 {
		return errors.New("invalid size " + strconv.Quote(str) + " (must be a whole, non-negative number: \"1536MiB\", not \"1.5GiB\")")
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
	case "t", "tb", "tib":
		mul = 1 << 40
	default:
		return errors.New("invalid size unit " + strconv.Quote(unit) + " (use B, KiB, MiB, GiB or TiB)")
	}
	if n > maxSize/mul {
		return errors.New("size " + strconv.Quote(str) + " is too large")
	}
	*s = Size(n * mul)
	return nil
}

// MarshalText implements encoding.TextMarshaler: the byte count.
func (s Size) MarshalText() ([]byte, error) { return strconv.AppendInt(nil, int64(s), 10), nil }

// String writes s with the largest binary unit that divides it exactly
// ("8GiB", "96KiB", "1000B"), the form a config file would use.
func (s Size) String() string {
	for _, u := range [...]struct {
		shift uint
		name  string
	}{{40, "TiB"}, {30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if s != 0 && s%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(s)>>u.shift, 10) + u.name
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}
