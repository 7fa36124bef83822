package main

import (
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/storage"
)

// parkQueue prefixes the held-item queue (storage.Held.SystemID) of each
// connector's parked receipts: no system_id starts with NUL, so no
// receiver ever leases them, and no user's share applies.
const parkQueue = "\x00park:"

// storeParker keeps one connector's parked receipts (connector.Parker) as
// held items of the store, under parkQueue and the connector's name. A
// copy lives at most life (hold_lifetime): the store's expiry drops one no
// run took up by then.
type storeParker struct {
	holds storage.Holds
	queue string
	life  time.Duration
}

var _ connector.Parker = storeParker{}

// Park implements connector.Parker.
func (p storeParker) Park(body []byte) (uint64, error) {
	h := storage.Held{SystemID: p.queue, Kind: storage.HeldReceipt, Body: body, Expires: time.Now().Add(p.life).UnixNano()}
	k, err := p.holds.Hold(&h)
	return uint64(k), err
}

// Unpark implements connector.Parker.
func (p storeParker) Unpark(key uint64) error { return p.holds.Ack(storage.HeldKey(key)) }

// Parked implements connector.Parker: every copy is leased for the call,
// and those still parked after it are released again, so a later instance
// of the connector (an operator's restart) takes them up too.
func (p storeParker) Parked(fn func(key uint64, body []byte)) error {
	var dst [64]storage.Held
	var seen []storage.HeldKey
	until := time.Now().Add(p.life).UnixNano()
	var err error
	for {
		var n int
		if n, err = p.holds.Lease(p.queue, until, dst[:]); err != nil {
			break
		}
		for i := range n {
			seen = append(seen, dst[i].Key)
			fn(uint64(dst[i].Key), dst[i].Body)
		}
		if n < len(dst) {
			break
		}
	}
	for _, k := range seen {
		_ = p.holds.Release(k, 0) // one unparked meanwhile is gone: nothing to release
	}
	return err
}
