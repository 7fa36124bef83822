package memory

import (
	"strconv"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// BenchmarkFind1M: one page of Find (50 records to one number) over a
// store of 1,000,000 records to 10,000 numbers: the admin API's lookup.
func BenchmarkFind1M(b *testing.B) {
	s := New(Options{MaxRecords: 1 << 20, TTL: time.Hour})
	now := time.Now().UnixNano()
	for i := range 1_000_000 {
		r := storage.Record{ID: msg.ID(uint64(i+1) << 12), SystemID: "alice", State: msg.StateDelivered, Submitted: now}
		r.SetAddrs([]byte("ACME"), strconv.AppendInt([]byte("49170"), int64(i%10_000), 10), nil)
		if err := s.Put(&r); err != nil {
			b.Fatal(err)
		}
	}
	q := storage.Query{Addr: []byte("49170123")}
	dst := make([]storage.Record, 51)
	b.ResetTimer()
	for b.Loop() {
		if n, err := s.Find(&q, dst); err != nil || n != 51 {
			b.Fatalf("Find: %d, %v", n, err)
		}
	}
}
