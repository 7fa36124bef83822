package config

import "github.com/smppd/smppd/internal/units"

// Duration is a time.Duration written as a Go duration string ("30s"); a
// bare integer and a negative value are refused (internal/units).
type Duration = units.Duration

// Size is a byte count written either as an integer (98304) or as a string
// with a binary unit ("96KiB", "4MiB", "8GiB", "2TiB"); negative sizes are
// refused (internal/units).
type Size = units.Size
