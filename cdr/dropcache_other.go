//go:build !linux

package cdr

import "os"

// dropPages is Linux's page cache advice (dropcache_linux.go); elsewhere
// the pages stay cached.
func dropPages(*os.File, int64, int64) {}
