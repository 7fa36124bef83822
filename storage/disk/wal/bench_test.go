package wal

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchDir is where benchmarks put their log: WAL_BENCH_DIR when set (to
// measure a particular device), else a temporary directory.
func benchDir(b *testing.B) string {
	if d := os.Getenv("WAL_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "walbench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

// discardFS writes nothing: the writer only swaps buffers, so what is
// measured is Append, not the device.
type discardFS struct{ OSFS }

func (d discardFS) OpenFile(name string, flag int) (File, error) {
	f, err := d.OSFS.OpenFile(name, flag)
	return discardFile{f}, err
}

type discardFile struct{ File }

func (discardFile) WriteAt(p []byte, _ int64) (int, error) { return len(p), nil }
func (discardFile) Sync() error                            { return nil }

// BenchmarkAppend is the cost of Append alone: the checksum and the copy
// into the group buffer under the lock. "disk" appends to a real file
// (SyncNever): then the writer's write(2) into the page cache shares the
// machine and sets the pace.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
		fs   FS
	}{{"discard/bytes=64", 64, discardFS{}}, {"discard/bytes=300", 300, discardFS{}}, {"disk/bytes=300", 300, nil}} {
		b.Run(c.name, func(b *testing.B) {
			size := c.size
			l := mustOpen(b, Options{Dir: benchDir(b), Sync: SyncNever, FS: c.fs})
			defer l.Close()
			p := make([]byte, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := l.Append(1, p, false); err != nil {
					if !errors.Is(err, ErrBufferFull) {
						b.Fatal(err)
					}
					l.WaitCommitted(l.Written())
				}
			}
		})
	}
}

// BenchmarkAppendParallel is Append from every P at once: the lock's share.
func BenchmarkAppendParallel(b *testing.B) {
	l := mustOpen(b, Options{Dir: benchDir(b), Sync: SyncNever, FS: discardFS{}})
	defer l.Close()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		p := make([]byte, 300)
		for pb.Next() {
			if _, err := l.Append(1, p, false); err != nil {
				if !errors.Is(err, ErrBufferFull) {
					b.Error(err)
					return
				}
				l.WaitCommitted(l.Written())
			}
		}
	})
}

// BenchmarkGroupCommit: appenders each append a 300-byte entry and wait
// for it to be committed with SyncAlways, as deferred submit answers do.
// One fsync answers every entry that arrived while the previous one ran,
// so the rate grows with the appenders while the fsync time stays. Beside
// the rate it reports the fsync p50, p99 and mean, and what Little's law
// allows at the mean fsync time (appenders / fsync time: every appender's
// entry committed by every fsync). An entry that arrives during an fsync
// waits for it and then its own, so the measured rate sits between half
// that bound and the bound.
func BenchmarkGroupCommit(b *testing.B) {
	for _, n := range []int{1, 4, 64} {
		b.Run("appenders="+strconv.Itoa(n), func(b *testing.B) {
			l := mustOpen(b, Options{Dir: benchDir(b), Sync: SyncAlways})
			defer l.Close()
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := make([]byte, 300)
					for left.Add(-1) >= 0 {
						pos, err := l.Append(1, p, false)
						if err == nil {
							err = l.WaitCommitted(uint64(pos))
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			st := l.Stats()
			b.ReportMetric(float64(b.N)/el.Seconds(), "entries/s")
			b.ReportMetric(float64(st.FsyncP50.Microseconds()), "fsync-p50-µs")
			b.ReportMetric(float64(st.FsyncP99.Microseconds()), "fsync-p99-µs")
			if st.Groups > 0 {
				b.ReportMetric(float64(st.Appends)/float64(st.Groups), "entries/fsync")
			}
			if st.Fsyncs > 0 {
				mean := st.FsyncTotal / time.Duration(st.Fsyncs)
				b.ReportMetric(float64(mean.Microseconds()), "fsync-mean-µs")
				b.ReportMetric(float64(n)/mean.Seconds(), "little-bound/s")
			}
		})
	}
}

// BenchmarkReplay1M reads a log of 1,000,000 entries of 200 bytes (64 MiB
// segments, page cache warm): Open, Replay with a callback that only
// counts, Close. One op is the whole log.
func BenchmarkReplay1M(b *testing.B) {
	const entries = 1_000_000
	o := Options{Dir: benchDir(b), Sync: SyncNever}
	l := mustOpen(b, o)
	p := make([]byte, 200)
	for i := 0; i < entries; {
		if _, err := l.Append(1, p, false); err != nil {
			if !errors.Is(err, ErrBufferFull) {
				b.Fatal(err)
			}
			l.WaitCommitted(l.Written())
			continue
		}
		i++
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l := mustOpen(b, o)
		n := 0
		if _, err := l.Replay(func(Pos, byte, []byte) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != entries {
			b.Fatalf("%d entries", n)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(entries)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkWindowOne models clients at window 1 on a real device
// (SyncAlways, WAL_BENCH_DIR): each appends one request entry, waits
// until it is committed, then sends the next. With the linger (LingerKind
// set) the clients a commit answers go into one group again instead of
// taking turns with those that arrived during the fsync. Reported:
// entries per fsync and the mean fsync.
func BenchmarkWindowOne(b *testing.B) {
	for _, clients := range []int{1, 4, 64} {
		for _, linger := range []bool{false, true} {
			b.Run("clients="+strconv.Itoa(clients)+"/linger="+strconv.FormatBool(linger), func(b *testing.B) {
				o := Options{Dir: benchDir(b), Sync: SyncAlways, Preallocate: true}
				if linger {
					o.LingerKind = 1
				}
				l := mustOpen(b, o)
				defer l.Close()
				p := make([]byte, 400)
				per := max(1, b.N/clients)
				st0 := l.Stats()
				b.ResetTimer()
				var wg sync.WaitGroup
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range per {
							pos, err := l.Append(1, p, false)
							if err != nil {
								b.Error(err)
								return
							}
							if err := l.WaitCommitted(uint64(pos)); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				st := l.Stats()
				if n := st.Fsyncs - st0.Fsyncs; n > 0 {
					b.ReportMetric(float64(per*clients)/float64(n), "entries/fsync")
					b.ReportMetric(float64((st.FsyncTotal-st0.FsyncTotal).Microseconds())/float64(n), "µs/fsync")
				}
			})
		}
	}
}
