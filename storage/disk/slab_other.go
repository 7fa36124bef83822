//go:build !linux

package disk

// hugeBlock: heap blocks only where the Linux calls do not exist.
func hugeBlock(int, int) ([]recSlot, []byte) { return nil, nil }

func populate([]byte) {}

func unmapBlock([]byte) {}
