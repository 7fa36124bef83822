package config

import (
	"path/filepath"
	"strings"
	"time"
)

// Bounds of [cdr]; see docs/CONFIG.md.
const (
	// A file holds at least a few lines; past 1 GiB an erasure's rewrite
	// of one file holds too much in memory.
	minCDRFileSize = Size(4 << 10)
	maxCDRFileSize = Size(1 << 30)
	minCDRFileAge  = time.Second
	maxCDRFileAge  = 7 * 24 * time.Hour
	maxCDRRetain   = 10 * 365 * 24 * time.Hour
	// The queue holds 96-byte entries: 1024 is a few milliseconds at full
	// rate, 16M is 1.5 GiB.
	minCDRQueue = 1024
	maxCDRQueue = 1 << 24
	// Percent of queue_size (cdr.MinHighWater..cdr.MaxHighWater): below
	// 10 the writer's normal batches would refuse MT; above 90 the
	// headroom is a few milliseconds of final states.
	minCDRHighWater = 10
	maxCDRHighWater = 90
	// Past a minute a lasting backlog is hidden from the load balancer
	// for longer than its clients retry.
	maxCDRReadyGrace = time.Minute
)

func (v *validator) cdr() {
	c := &v.c.CDR
	const p = "cdr."
	if c.MaxFileSize < minCDRFileSize || c.MaxFileSize > maxCDRFileSize {
		v.fail(p+"max_file_size", "%v is out of range %v..%v", c.MaxFileSize, minCDRFileSize, maxCDRFileSize)
	}
	if d := c.MaxFileAge.D(); d < minCDRFileAge || d > maxCDRFileAge {
		v.fail(p+"max_file_age", "%v is out of range %v..%v", c.MaxFileAge, minCDRFileAge, maxCDRFileAge)
	}
	if d := c.Retention.D(); d < c.MaxFileAge.D() || d > maxCDRRetain {
		v.fail(p+"retention", "%v is out of range max_file_age (%v)..%v", c.Retention, c.MaxFileAge, Duration(maxCDRRetain))
	}
	v.intRange(p+"queue_size", c.QueueSize, minCDRQueue, maxCDRQueue)
	v.intRange(p+"queue_high_water", c.QueueHighWater, minCDRHighWater, maxCDRHighWater)
	if d := c.ReadyGrace.D(); d < 0 || d > maxCDRReadyGrace {
		v.fail(p+"ready_grace", "%v is out of range 0s..%v", c.ReadyGrace, Duration(maxCDRReadyGrace))
	}
	if strings.ContainsRune(c.Dir, 0) {
		v.fail(p+"dir", "must not contain a NUL character")
		return
	}
	s := &v.c.Storage
	dir := c.Dir
	switch {
	case !c.Enabled:
		return
	case dir == "" && !s.Disk():
		v.warn("cdr: enabled, but [storage] kind = %q keeps no data directory and [cdr] dir is unset: no CDRs are written (set [cdr] dir)", s.Kind)
		return
	case dir == "":
		dir = filepath.Join(s.Dir, "cdr")
	default:
		dir = v.resolve(dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		v.fail(p+"dir", "%v", err)
		return
	}
	if s.Disk() && filepath.Clean(abs) == filepath.Clean(s.Dir) {
		v.fail(p+"dir", "must not be [storage] dir itself (each locks its directory): use a folder of its own, such as %s", filepath.Join(s.Dir, "cdr"))
		return
	}
	c.Dir, c.Active = abs, true
}
