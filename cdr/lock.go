package cdr

import (
	"errors"
	"fmt"

	"github.com/smppd/smppd/internal/dirlock"
)

// ErrLocked is returned by Open when another process holds the directory.
var ErrLocked = dirlock.ErrLocked

// lockDir takes dir for this process (internal/dirlock).
func lockDir(dir string) (*dirlock.Lock, error) {
	lk, err := dirlock.Acquire(dir, filePerm)
	if errors.Is(err, dirlock.ErrLocked) {
		return nil, fmt.Errorf("cdr: %w (each smppd needs its own [cdr] dir)", err)
	}
	if err != nil {
		return nil, fmt.Errorf("cdr: %w", err)
	}
	return lk, nil
}
