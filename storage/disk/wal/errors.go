package wal

import "errors"

// Errors of the log. Append returns the first five at once, without
// waiting: the caller refuses or counts, never blocks.
var (
	// ErrDiskFull: the disk budget (or, for a non-urgent append, its high
	// water mark) is reached, or the device reported no space. It clears by
	// itself when Remove frees room or a retried write succeeds.
	ErrDiskFull = errors.New("wal: disk full")
	// ErrFailed: the device failed a write or an fsync (EIO and the like).
	// Sticky until a retried write succeeds.
	ErrFailed = errors.New("wal: device failed")
	// ErrBufferFull: the group buffer is full because the device is slower
	// than the arrivals; transient.
	ErrBufferFull = errors.New("wal: write buffer full")
	// ErrTooLarge: the payload is longer than MaxPayload.
	ErrTooLarge = errors.New("wal: entry too large")
	// ErrClosed: the log is closed.
	ErrClosed = errors.New("wal: closed")
	// ErrNotReplayed: Append before Replay on a log that had entries, or
	// Replay called twice or after Append.
	ErrNotReplayed = errors.New("wal: Replay must be called once, before the first Append")
	// ErrSegmentActive: Remove of the segment being written, or a later one.
	ErrSegmentActive = errors.New("wal: segment is still being written")
	// ErrNewerFormat: a segment was written by a newer release; the error
	// returned wraps it and names the file.
	ErrNewerFormat = errors.New("wal: segment format is newer than this release reads")
	// ErrCorrupt: ReadSegment met a frame cut short or failing its
	// checksum; the error returned wraps it and names the file and offset.
	ErrCorrupt = errors.New("wal: corrupt segment")
	// ErrUnsyncedLost: with SyncNever an fsync failed, so what it covered
	// may be lost and exists nowhere else; the log stays failed (appends
	// get ErrFailed, Stats.LastError says this) until it is reopened.
	ErrUnsyncedLost = errors.New("wal: an fsync failed with sync = never and what it covered may be lost; " +
		"appends are refused until the log is reopened")
	// ErrLocked: another process holds the directory; the error returned
	// wraps it and names the directory and the holder's pid.
	ErrLocked = errors.New("wal: data directory in use")
)
