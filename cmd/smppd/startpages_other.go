//go:build !linux

package main

// releaseStartPages releases nothing here: the pages of the executable
// are unmapped only on Linux (startpages_linux.go).
func releaseStartPages() (int, error) { return 0, nil }
