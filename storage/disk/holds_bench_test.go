package disk

import (
	"errors"
	"testing"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// BenchmarkHeldReceipt is a receipt's life in the hold store with
// delivery.Options.Durable: held leased when made, acknowledged when its
// ESME answers, a window of them outstanding (what the disk store adds to a
// receipt beyond the memory store's, without the device's time).
func BenchmarkHeldReceipt(b *testing.B) {
	stores := []struct {
		name  string
		holds func(b *testing.B) (storage.Holds, storage.Committer)
	}{
		{"memory", func(*testing.B) (storage.Holds, storage.Committer) { return memory.NewHolds(0, nil), nil }},
		{"disk-interval", func(b *testing.B) (storage.Holds, storage.Committer) {
			s := benchStore(b, wal.SyncInterval)
			return s.Holds(), s.Committer()
		}},
	}
	const window = 400
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			hs, c := st.holds(b)
			keys := make([]storage.HeldKey, window)
			h := storage.Held{SystemID: "esme1", Kind: storage.HeldReceipt, Body: benchBody,
				Expires: 1 << 62, LeaseUntil: 1 << 62}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i % window
				if k := keys[j]; k != 0 {
					if err := hs.Ack(k); err != nil {
						b.Fatal(err)
					}
				}
				h.ID = msg.ID(uint64(i)<<12 | 7)
				k, err := hs.Hold(&h)
				for errors.Is(err, wal.ErrBufferFull) && c != nil {
					// The device is behind: let it catch up, as the
					// connector's retry would.
					if werr := c.WaitCommitted(c.Written()); werr != nil {
						b.Fatal(werr)
					}
					k, err = hs.Hold(&h)
				}
				if err != nil {
					b.Fatal(err)
				}
				keys[j] = k
			}
		})
	}
}
