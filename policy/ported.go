package policy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// MaxPortedEntries bounds a ported-numbers file.
const MaxPortedEntries = 10_000_000

// maxPortedDigits is the longest number a packed key holds: a leading 1 and
// 18 decimal digits stay under 2^63 (E.164 numbers have at most 15).
const maxPortedDigits = 18

// prefixBit marks a key as a prefix entry rather than an exact number.
const prefixBit = uint64(1) << 63

// packDigits packs a number of decimal digits (one leading '+' ignored)
// into a key: 1 followed by the digits, so "0" and "00" differ. ok is false
// for an empty number, a non-digit or more than maxPortedDigits digits.
func packDigits(b []byte) (k uint64, n int, ok bool) {
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > maxPortedDigits {
		return 0, 0, false
	}
	k = 1
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		k = k*10 + uint64(c-'0')
	}
	return k, len(b), true
}

// portedTable maps exact numbers and prefixes to an index into networks.
// Immutable once built; an exact entry beats any prefix, a longer prefix
// beats a shorter one.
type portedTable struct {
	keys     map[uint64]uint16
	lens     uint32 // bit n set: some prefix has n digits
	networks []string
}

// lookup returns the network of a destination, or "" and false.
// It allocates nothing.
func (t *portedTable) lookup(dst []byte) (string, bool) {
	if t == nil {
		return "", false
	}
	k, n, ok := packDigits(dst)
	if !ok {
		return "", false
	}
	if i, ok := t.keys[k]; ok {
		return t.networks[i], true
	}
	if t.lens == 0 {
		return "", false
	}
	// Strip digits from the right, longest prefix first.
	for l := n; l >= 1; l-- {
		if t.lens&(1<<l) != 0 {
			if i, ok := t.keys[k|prefixBit]; ok {
				return t.networks[i], true
			}
		}
		k /= 10
	}
	return "", false
}

// validNetwork reports whether s is a usable network name: 1..64 of
// A-Z a-z 0-9 _ . : - (the alphabet of route names).
func validNetwork(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// LoadPorted reads a ported-numbers file: one entry a line, "NUMBER
// NETWORK" for an exact number or "PREFIX* NETWORK" for every number that
// starts with PREFIX; digits only after an optional '+', at most 18;
// blank lines and lines starting with '#' are skipped. A repeated number
// or prefix is an error (the file is likely broken), and so is any bad line:
// the error names the file and line.
func LoadPorted(path string) (*portedTable, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := parsePorted(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func parsePorted(r io.Reader) (*portedTable, error) {
	t := &portedTable{keys: make(map[uint64]uint16)}
	ids := make(map[string]uint16)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"NUMBER NETWORK\" or \"PREFIX* NETWORK\"", line)
		}
		num, network := f[0], f[1]
		prefix := strings.HasSuffix(num, "*")
		if prefix {
			num = num[:len(num)-1]
		}
		k, n, ok := packDigits([]byte(num))
		if !ok {
			return nil, fmt.Errorf("line %d: %q is not 1..%d digits", line, f[0], maxPortedDigits)
		}
		if !validNetwork(network) {
			return nil, fmt.Errorf("line %d: network %q is not 1..64 of A-Z a-z 0-9 _ . : -", line, network)
		}
		if prefix {
			k |= prefixBit
			t.lens |= 1 << n
		}
		if _, dup := t.keys[k]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", line, f[0])
		}
		if len(t.keys) >= MaxPortedEntries {
			return nil, fmt.Errorf("line %d: more than %d entries", line, MaxPortedEntries)
		}
		id, ok := ids[network]
		if !ok {
			if len(t.networks) >= 1<<16 {
				return nil, fmt.Errorf("line %d: more than %d distinct networks", line, 1<<16)
			}
			id = uint16(len(t.networks))
			t.networks = append(t.networks, network)
			ids[network] = id
		}
		t.keys[k] = id
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("line %d: longer than 4096 octets", line+1)
		}
		return nil, err
	}
	return t, nil
}
