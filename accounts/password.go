package accounts

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Password hashing: PBKDF2-HMAC-SHA256 (RFC 8018) from the standard library,
// encoded as "$pbkdf2-sha256$<iterations>$<salt>$<hash>" with unpadded
// standard base64 for salt and hash (the passlib-style layout, so other tools
// can read it).
const (
	// DefaultIterations is what HashPassword uses: about 30-60 ms per check
	// on a server core. Checks run off the event loops and are cached.
	DefaultIterations = 100_000
	minIterations     = 1_000
	maxIterations     = 10_000_000
	saltLen           = 16
	keyLen            = 32
	hashPrefix        = "$pbkdf2-sha256$"
)

var b64 = base64.RawStdEncoding

// ErrHashFormat is returned for a password_hash that is not in our format.
var ErrHashFormat = errors.New("accounts: password hash is not $pbkdf2-sha256$<iterations>$<salt>$<hash>")

// MaxPasswordLen is the longest SMPP password (SMPP 3.4 §5.2.2: 9 octets
// with the NUL).
const MaxPasswordLen = 8

// CheckPassword refuses a password no bind could send: empty, longer than
// MaxPasswordLen or holding a NUL.
func CheckPassword(pw string) error {
	if pw == "" || len(pw) > MaxPasswordLen {
		return errors.New("must be 1 to 8 characters (the SMPP limit)")
	}
	if strings.IndexByte(pw, 0) >= 0 {
		return errors.New("cannot contain NUL (SMPP passwords are C-octet strings)")
	}
	return nil
}

// HashPassword hashes pw with a fresh random salt and DefaultIterations.
func HashPassword(pw string) (string, error) {
	return HashPasswordIter(pw, DefaultIterations)
}

// HashPasswordIter is HashPassword with a chosen iteration count
// (1,000..10,000,000).
func HashPasswordIter(pw string, iter int) (string, error) {
	if strings.IndexByte(pw, 0) >= 0 {
		return "", errors.New("accounts: a password cannot contain NUL (SMPP passwords are C-octet strings)")
	}
	if iter < minIterations || iter > maxIterations {
		return "", errors.New("accounts: iterations out of range 1000..10000000")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	dk, err := pbkdf2.Key(sha256.New, pw, salt, iter, keyLen)
	if err != nil {
		return "", err
	}
	return hashPrefix + strconv.Itoa(iter) + "$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(dk), nil
}

// VerifyPassword reports whether pw matches encoded. A malformed encoded
// value never matches. The comparison is constant-time.
func VerifyPassword(encoded, pw string) bool {
	h, err := parseHash(encoded)
	if err != nil {
		return false
	}
	return h.verify(pw)
}

// pwHash is a parsed password_hash.
type pwHash struct {
	iter int
	salt []byte
	key  []byte
}

func parseHash(encoded string) (pwHash, error) {
	rest, ok := strings.CutPrefix(encoded, hashPrefix)
	if !ok {
		return pwHash{}, ErrHashFormat
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return pwHash{}, ErrHashFormat
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < minIterations || iter > maxIterations {
		return pwHash{}, errors.New("accounts: password hash iterations out of range 1000..10000000")
	}
	salt, err := b64.DecodeString(parts[1])
	if err != nil || len(salt) < 8 {
		return pwHash{}, errors.New("accounts: password hash salt is not base64 of at least 8 bytes")
	}
	key, err := b64.DecodeString(parts[2])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return pwHash{}, errors.New("accounts: password hash is not base64 of 16..64 bytes")
	}
	return pwHash{iter: iter, salt: salt, key: key}, nil
}

func (h pwHash) verify(pw string) bool {
	if strings.IndexByte(pw, 0) >= 0 {
		// HMAC pads its key with zeros, so "pw" and "pw\x00" derive the same
		// key. SMPP passwords are C-octet strings and never hold a NUL.
		return false
	}
	dk, err := pbkdf2.Key(sha256.New, pw, h.salt, h.iter, len(h.key))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(dk, h.key) == 1
}

// dummyHash returns the hash checked when the system_id is unknown, so that
// path costs what a wrong password costs: iter is the largest iteration
// count among the users, so the unknown-user path is never the faster one.
func dummyHash(iter int) pwHash {
	return pwHash{iter: iter, salt: []byte("smppd-no-such-user"), key: make([]byte, keyLen)}
}
