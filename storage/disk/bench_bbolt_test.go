//go:build bbolt

package disk

// The same workload on bbolt (go.etcd.io/bbolt, pinned in go.mod for this
// file only), the embedded store the engine was measured against (see
// docs/adr/0003-durable-store.md). Run with:
//
//	go test -tags bbolt -run '^$' -bench 'Bolt|Window|Message|Recover' ./storage/disk/
//
// Each message is one record in a bucket keyed by its id, its value the
// same bytes the disk store logs (record and body). A submit is
// acknowledged when the transaction that put it is committed: concurrent
// writers share one commit (DB.Batch, bbolt's group commit). The
// acceptance and the receipt are read-modify-writes done by state workers
// (as connector workers would), also through DB.Batch, so they never hold
// up a window slot.

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

var boltBucket = []byte("records")

// openBolt opens a bbolt file in a fresh directory; noSync skips the
// fsyncs (the durability of sync = never).
func openBolt(b *testing.B, noSync bool, batch int) *bolt.DB {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "bolt.db"), 0o600, &bolt.Options{NoSync: noSync,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	db.MaxBatchSize, db.MaxBatchDelay = batch, 2*time.Millisecond
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucketIfNotExists(boltBucket); return err }); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// boltPut stores r and body as the disk store's entry bytes.
func boltPut(db *bolt.DB, r *storage.Record, body []byte) error {
	var sl recSlot
	fill(&sl, r, r.Submitted)
	sl.flags = fBody
	val := appendRecord(nil, &sl, nil, r.SystemID, r.MTRoute, charges{money: r.Charge}, body)
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(r.ID))
	return db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(key[:], val) })
}

// boltState rewrites id's record with st (and, final, without its body).
func boltState(db *bolt.DB, id msg.ID, st msg.State, accepted bool) error {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(id))
	return db.Batch(func(tx *bolt.Tx) error {
		bk := tx.Bucket(boltBucket)
		v := bk.Get(key[:])
		if v == nil {
			return storage.ErrNotFound
		}
		var sl recSlot
		user, route, _, _, err := decodeRecord(v, &sl, &upAddrs{})
		if err != nil {
			return err
		}
		if accepted {
			sl.flags = fAccepted
		} else {
			sl.state = st
		}
		return bk.Put(key[:], appendRecord(nil, &sl, nil, string(user), string(route), charges{}, nil))
	})
}

func BenchmarkBoltMessage(b *testing.B) {
	for _, noSync := range []bool{false, true} {
		b.Run(fmt.Sprintf("nosync=%v", noSync), func(b *testing.B) {
			db := openBolt(b, noSync, 1000)
			var next atomic.Uint64
			b.ReportAllocs()
			b.SetParallelism(64) // Batch needs concurrent callers to share a commit
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := benchRecord(next.Add(1))
					if err := boltPut(db, &r, benchBody); err != nil {
						b.Fatal(err)
					}
					if err := boltState(db, r.ID, 0, true); err != nil {
						b.Fatal(err)
					}
					if err := boltState(db, r.ID, msg.StateDelivered, false); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkBoltWindow is BenchmarkWindow on bbolt. DB.Batch blocks until
// its commit, so a session's window is window goroutines, one per
// unacknowledged message.
func BenchmarkBoltWindow(b *testing.B) {
	for _, c := range windowCases {
		n := c.sessions * c.window
		b.Run(fmt.Sprintf("%dx%d", c.sessions, c.window), func(b *testing.B) {
			db := openBolt(b, false, n)
			var next atomic.Uint64
			lat := make([][]time.Duration, n)
			states := make(chan msg.ID, n)
			var sw sync.WaitGroup
			for range n { // the connector workers: as many as messages in flight, so states batch as well as submits
				sw.Go(func() {
					for id := range states {
						if err := boltState(db, id, 0, true); err != nil {
							b.Error(err)
						}
						if err := boltState(db, id, msg.StateDelivered, false); err != nil {
							b.Error(err)
						}
					}
				})
			}
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range n {
				wg.Go(func() {
					l := make([]time.Duration, 0, b.N/n+1)
					for {
						k := next.Add(1)
						if k > uint64(b.N) {
							break
						}
						r := benchRecord(k)
						t0 := time.Now()
						if err := boltPut(db, &r, benchBody); err != nil {
							b.Error(err)
							return
						}
						l = append(l, time.Since(t0))
						states <- r.ID
					}
					lat[g] = l
				})
			}
			wg.Wait()
			close(states)
			sw.Wait()
			el := time.Since(start)
			b.StopTimer()
			reportLatency(b, lat, el)
		})
	}
}

// BenchmarkBoltRecover opens a bbolt file of recoverRecords records (as
// BenchmarkRecover's: one in ten with its body) and reads them all, as a
// store on bbolt would to rebuild the index the per-message path needs
// (a bbolt read transaction allocates).
func BenchmarkBoltRecover(b *testing.B) {
	n := recoverRecords()
	path := filepath.Join(b.TempDir(), "bolt.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 10_000
	for lo := 0; lo < n; lo += chunk {
		err := db.Update(func(tx *bolt.Tx) error {
			bk, err := tx.CreateBucketIfNotExists(boltBucket)
			if err != nil {
				return err
			}
			for i := lo; i < min(lo+chunk, n); i++ {
				r := benchRecord(uint64(i + 1))
				var sl recSlot
				fill(&sl, &r, r.Submitted)
				var body []byte
				if i%10 == 0 {
					sl.flags, body = fBody, benchBody
				} else {
					sl.state = msg.StateDelivered
				}
				var key [8]byte
				binary.BigEndian.PutUint64(key[:], uint64(r.ID))
				if err := bk.Put(key[:], appendRecord(nil, &sl, nil, r.SystemID, r.MTRoute, charges{}, body)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	var took time.Duration
	for b.Loop() {
		runtime.GC()
		t0 := time.Now()
		db, err := bolt.Open(path, 0o600, &bolt.Options{NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		var sl recSlot
		err = db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(boltBucket).ForEach(func(_, v []byte) error {
				if _, _, _, _, err := decodeRecord(v, &sl, &upAddrs{}); err != nil {
					return err
				}
				got++
				return nil
			})
		})
		took = time.Since(t0)
		if err != nil || got != n {
			b.Fatalf("read %d records, want %d: %v", got, n, err)
		}
		db.Close()
	}
	b.ReportMetric(took.Seconds(), "s/open")
}
