package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/delivery/dlr"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// storeFS is the disk store's file layer: nil, the operating system's;
// tests slow its fsync to widen a group commit.
var storeFS wal.FS

// openStore opens [storage]: the disk store in dir (created and proved
// writable first, then locked, waiting up to lockWait for another process
// to release it), or the memory store. held is each user's
// share of the held items, read on every Hold. An error names the cause
// an operator can act on: another process holding the directory, a
// directory smppd cannot write, a format this release cannot read.
func openStore(cfg *config.Config, held storage.HeldLimit, lockWait time.Duration, log zerolog.Logger) (storage.Store, error) {
	s := &cfg.Storage
	if cfg.Cluster.Enabled {
		return openClusterStore(cfg, held, log)
	}
	if !s.Disk() {
		return memory.New(memory.Options{
			MaxRecords:  s.MaxRecords,
			MaxUpstream: s.MaxUpstreamIDs,
			MaxHeld:     cfg.Delivery.MaxHeld,
			HeldShare:   held,
			TTL:         s.MessageTTL.D(),
		}), nil
	}
	if err := cfg.CheckStorageDir(); err != nil {
		return nil, err
	}
	st, err := disk.Open(disk.Options{
		Dir:          s.Dir,
		Sync:         syncMode(s.Sync),
		SyncInterval: s.SyncInterval.D(),
		MaxDisk:      int64(s.MaxDisk),
		Preallocate:  true, // zero-filled next segments: an fsync flushes data only (wal/prealloc.go)
		FS:           storeFS,
		LockWait:     lockWait,
		TTL:          s.MessageTTL.D(),
		MaxHeld:      cfg.Delivery.MaxHeld,
		HeldShare:    held,
		Rebuild:      dlr.Body, // held receipts logged as their recipes, ~80 octets instead of ~200
		Logger:       log.With().Str("component", "storage").Logger(),
	})
	if err != nil {
		return nil, storeOpenError(s.Dir, err)
	}
	return st, nil
}

// syncMode maps [storage] sync onto the log's (validated by config).
func syncMode(s string) wal.SyncMode {
	switch s {
	case config.SyncInterval:
		return wal.SyncInterval
	case config.SyncNever:
		return wal.SyncNever
	}
	return wal.SyncAlways
}

// storeOpenError says what to do about a store that would not open.
func storeOpenError(dir string, err error) error {
	switch {
	case errors.Is(err, wal.ErrLocked):
		return fmt.Errorf("[storage] dir %s is in use by another smppd process (stop it, or give each process its own dir): %w", dir, err)
	case errors.Is(err, wal.ErrNewerFormat), errors.Is(err, msg.ErrBinaryVersion):
		return fmt.Errorf("[storage] dir %s was written by a newer smppd release than this one: run that release, or restore the copy of the directory taken before the upgrade (docs/OPERATIONS.md, upgrade and rollback): %w", dir, err)
	}
	return fmt.Errorf("[storage] dir %s: cannot open the store: %w", dir, err)
}

// heldShares is the stores' storage.HeldLimit before the users exist: the
// store opens first (the users' balances come from its ledger), so the
// accounts store is set once built; until then no share applies.
type heldShares struct {
	users atomic.Pointer[accounts.Store]
	// callbacks is the HTTP callbacks' share ([webhook] max_pending):
	// they are held under a queue name of their own, no user's.
	callbacks int
}

func (h *heldShares) limit(systemID string) int {
	if strings.HasPrefix(systemID, webhook.Queue) { // one node's, or a cluster node's (webhook.QueueOf)
		return h.callbacks
	}
	switch systemID {
	case flow.MultiQueue:
		return 0 // submit_multi destinations, accepted already: max_held bounds them
	}
	if strings.HasPrefix(systemID, parkQueue) {
		return 0 // receipts parked for their upstream id: the connector's park size bounds them
	}
	if u := h.users.Load(); u != nil {
		return u.HeldLimit(systemID)
	}
	return 0
}

// ledger adapts the store's storage.Ledger to accounts.Ledger (accounts
// does not import storage). Entries go through a pool: a refund on a
// connector goroutine allocates nothing.
type ledger struct {
	l       storage.Ledger
	entries sync.Pool
}

func newLedger(l storage.Ledger) *ledger {
	return &ledger{l: l, entries: sync.Pool{New: func() any { return new(storage.LedgerEntry) }}}
}

func (a *ledger) Append(e accounts.LedgerEntry) error {
	se := a.entries.Get().(*storage.LedgerEntry)
	*se = storage.LedgerEntry{SystemID: e.Account, Kind: storage.LedgerKind(e.Kind), Amount: e.Amount, ID: e.ID}
	err := a.l.Append(se)
	*se = storage.LedgerEntry{}
	a.entries.Put(se)
	return err
}

func (a *ledger) Balances(fn func(account string, balance int64, set bool)) error {
	return a.l.Balances(fn)
}

// idFloorBlock is how many id slots (2048 ids each) the persisted floor
// runs ahead of the ids issued: one store write per million ids or so, and
// a restart after a clock step starts at most that many milliseconds
// beyond the last run's ids.
const idFloorBlock = 1024

// newIDs starts the message-id generator above the floor the store kept
// from earlier runs, and has it keep the next block's floor in the store
// before issuing any id of it. A floor the store refuses (a full disk) is
// logged, throttled: ids go on, and only a clock step back between runs
// could then repeat one.
func newIDs(node int, st storage.Store, log zerolog.Logger) (*msg.IDGen, error) {
	floor := st.IDFloor()
	ids, err := msg.NewIDGenAbove(node, floor)
	if err != nil {
		return nil, err
	}
	gate := logthrottle.New(10*time.Second, 1)
	ids.KeepFloor(idFloorBlock, func(v uint64) {
		if err := st.SetIDFloor(v); err != nil {
			gate.Event(&log, zerolog.ErrorLevel, time.Now().UnixNano()).Str("event", "storage").Err(err).
				Msg("message-id floor not written: ids are unique unless the clock steps back before the next start")
		}
	})
	if floor != 0 {
		log.Info().Str("event", "start").Str("id_floor", msg.ID(floor).String()).Msg("message ids continue above the persisted floor")
	}
	return ids, nil
}

// storeReady is the store's half of GET /v1/ready: not ready while new
// submits are refused for a full disk or a failed device.
func storeReady(st storage.Stats) error {
	switch {
	case st.DeviceFailed:
		return errors.New("storage: the device failed a write or an fsync; submits are refused ESME_RMSGQFUL")
	case st.DiskFull:
		return fmt.Errorf("storage: disk full (%d of max_disk %d bytes used); submits are refused ESME_RMSGQFUL", st.BytesUsed, st.MaxDisk)
	}
	return nil
}

// deadLetters adapts the store's dead-letter list to the admin API's
// GET /v1/dead-letters.
func deadLetters(dl storage.DeadLetters) admin.DeadLetterSource {
	return func(max int) ([]admin.DeadLetter, int, error) {
		var out []admin.DeadLetter
		err := dl.List(max, func(d *storage.DeadLetter) {
			v := admin.DeadLetter{Key: strconv.FormatInt(d.At, 10), Kind: heldKindName(d.Kind), Connector: d.Connector,
				SystemID: d.SystemID, Reason: d.Reason, At: time.Unix(0, d.At).UTC(), Body: hex.EncodeToString(d.Body)}
			if d.ID != 0 {
				v.ID = d.ID.String()
			}
			out = append(out, v)
		})
		return out, dl.Len(), err
	}
}
