package disk

import (
	"sync/atomic"

	"github.com/smppd/smppd/storage/disk/wal"
)

// logWriter is what the store uses of its log: a wal.Log, or noLog for an
// index that is rebuilt from elsewhere at each start (Options.NoLog).
type logWriter interface {
	Append(kind byte, payload []byte, urgent bool) (wal.Pos, error)
	AppendLazy(kind byte, payload []byte, urgent bool) (wal.Pos, error)
	Appended() uint64
	Written() uint64
	Committed() uint64
	Synced() uint64
	OnCommit(fn func(committed uint64))
	WaitCommitted(pos uint64) error
	Sync() error
	Replay(fn func(pos wal.Pos, kind byte, payload []byte) error) (wal.ReplayStats, error)
	Segments() []wal.SegmentInfo
	ReadSegment(seq uint64, fn func(pos wal.Pos, kind byte, payload []byte) error) error
	Remove(seq uint64) error
	Stats() wal.Stats
	Close() error
}

// noLog writes nothing: every append is committed at once, a replay finds
// nothing and there are no segments to compact. For storage/jetstream's
// local index, which it clears and rebuilds from the journal at each start:
// a log of it would be written (and compacted) and never read.
type noLog struct {
	pos      atomic.Uint64
	onCommit atomic.Pointer[func(uint64)]
}

func (l *noLog) Append(_ byte, _ []byte, _ bool) (wal.Pos, error) {
	p := l.pos.Add(1)
	if fn := l.onCommit.Load(); fn != nil {
		(*fn)(p)
	}
	return wal.Pos(p), nil
}

func (l *noLog) AppendLazy(kind byte, payload []byte, urgent bool) (wal.Pos, error) {
	return l.Append(kind, payload, urgent)
}

func (l *noLog) Appended() uint64                   { return l.pos.Load() }
func (l *noLog) Written() uint64                    { return l.pos.Load() }
func (l *noLog) Committed() uint64                  { return l.pos.Load() }
func (l *noLog) Synced() uint64                     { return l.pos.Load() }
func (l *noLog) OnCommit(fn func(committed uint64)) { l.onCommit.Store(&fn) }
func (l *noLog) WaitCommitted(uint64) error         { return nil }
func (l *noLog) Sync() error                        { return nil }
func (l *noLog) Replay(func(wal.Pos, byte, []byte) error) (wal.ReplayStats, error) {
	return wal.ReplayStats{}, nil
}
func (l *noLog) Segments() []wal.SegmentInfo                                 { return nil }
func (l *noLog) ReadSegment(uint64, func(wal.Pos, byte, []byte) error) error { return nil }
func (l *noLog) Remove(uint64) error                                         { return nil }
func (l *noLog) Stats() wal.Stats                                            { return wal.Stats{} }
func (l *noLog) Close() error                                                { return nil }
