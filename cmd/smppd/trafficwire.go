package main

import (
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/delivery/webhook"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/storage"
)

// traffic adapts the store, the delivery service and the webhook sender
// to the admin API's stuck-traffic tools (admin.Traffic).
type traffic struct {
	store   storage.Store
	dl      *delivery.Service
	webhook *webhook.Service // nil: no HTTP callbacks configured
	hub     *flow.Hub
}

// heldKindName is a held item's or dead letter's kind in the API.
func heldKindName(k storage.HeldKind) string {
	switch k {
	case storage.HeldMO:
		return "mo"
	case storage.HeldReceipt:
		return "receipt"
	case storage.HeldCallback:
		return "callback"
	}
	return "unknown"
}

// heldView turns an item into the API's entry. Queues of the server's own
// (webhook's, MO parts', multi-recipient) start with NUL: they are shown
// by name, not as a system_id.
func heldView(h *storage.Held, leased, body bool) admin.HeldItem {
	v := admin.HeldItem{Key: strconv.FormatUint(uint64(h.Key), 10), Kind: heldKindName(h.Kind),
		Expires: time.Unix(0, h.Expires).UTC(), Attempts: h.Attempts, Leased: leased, Octets: len(h.Body)}
	if q, ok := strings.CutPrefix(h.SystemID, "\x00"); ok {
		v.Queue = q
	} else {
		v.SystemID = h.SystemID
	}
	if h.ID != 0 {
		v.ID = h.ID.String()
	}
	if body {
		v.Body = hex.EncodeToString(h.Body)
	}
	return v
}

func (t *traffic) walker() (storage.HeldWalker, error) {
	w, ok := t.store.Holds().(storage.HeldWalker)
	if !ok {
		return nil, admin.ErrTrafficUnsupported
	}
	return w, nil
}

// Held implements admin.Traffic.
func (t *traffic) Held(kind, systemID string, max int) ([]admin.HeldItem, int, error) {
	w, err := t.walker()
	if err != nil {
		return nil, 0, err
	}
	var out []admin.HeldItem
	total := 0
	err = w.Walk(func(h *storage.Held, leased bool) bool {
		if (kind != "" && heldKindName(h.Kind) != kind) || (systemID != "" && h.SystemID != systemID) {
			return true
		}
		total++
		if len(out) < max {
			out = append(out, heldView(h, leased, false))
		}
		return true
	})
	return out, total, err
}

// find copies key's item out of the store; admin.ErrTrafficNotFound.
func (t *traffic) find(key uint64) (storage.Held, bool, error) {
	w, err := t.walker()
	if err != nil {
		return storage.Held{}, false, err
	}
	var (
		got    storage.Held
		leased bool
		found  bool
	)
	err = w.Walk(func(h *storage.Held, l bool) bool {
		if uint64(h.Key) != key {
			return true
		}
		got, leased, found = *h, l, true
		got.Body = append([]byte(nil), h.Body...)
		return false
	})
	if err == nil && !found {
		err = admin.ErrTrafficNotFound
	}
	return got, leased, err
}

// HeldItem implements admin.Traffic.
func (t *traffic) HeldItem(key uint64) (admin.HeldItem, error) {
	h, leased, err := t.find(key)
	if err != nil {
		return admin.HeldItem{}, err
	}
	return heldView(&h, leased, true), nil
}

// errRetryQueue: items of the server's own queues are retried by their
// deliverers on their own schedule.
var errRetryQueue = errors.New("an item of an internal queue (HTTP callbacks, MO parts, multi-recipient) is retried by its sender on its schedule; purge it to give it up")

// RetryHeld implements admin.Traffic: a user's MO or receipt is offered
// again at once with its attempts reset, delivered now if a receiver of
// the user is bound (else it stays held, in its place).
func (t *traffic) RetryHeld(key uint64) error {
	h, leased, err := t.find(key)
	switch {
	case err != nil:
		return err
	case leased:
		return admin.ErrTrafficBusy
	case strings.HasPrefix(h.SystemID, "\x00"):
		return errRetryQueue
	}
	if err := t.store.Holds().Release(storage.HeldKey(key), 0); err != nil {
		return notFound(err)
	}
	t.dl.Retry(h.SystemID)
	return nil
}

// PurgeHeld implements admin.Traffic. A leased item is refused: its
// deliverer would acknowledge or release a key that is gone.
func (t *traffic) PurgeHeld(key uint64) error {
	if _, leased, err := t.find(key); err != nil {
		return err
	} else if leased {
		return admin.ErrTrafficBusy
	}
	return notFound(t.store.Holds().Ack(storage.HeldKey(key)))
}

func notFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return admin.ErrTrafficNotFound
	}
	return err
}

// deadLetter copies the letters at key out of the store.
func (t *traffic) deadLetters(key int64) ([]storage.DeadLetter, error) {
	var out []storage.DeadLetter
	err := t.store.DeadLetters().List(0, func(d *storage.DeadLetter) {
		if d.At == key {
			c := *d
			c.Body = append([]byte(nil), d.Body...)
			out = append(out, c)
		}
	})
	if err == nil && len(out) == 0 {
		err = admin.ErrTrafficNotFound
	}
	return out, err
}

func (t *traffic) remover() (storage.DeadLetterRemover, error) {
	r, ok := t.store.DeadLetters().(storage.DeadLetterRemover)
	if !ok {
		return nil, admin.ErrTrafficUnsupported
	}
	return r, nil
}

// errRetryReceipt: a receipt is dead because its message id is not ours;
// nothing can deliver it.
var errRetryReceipt = errors.New("a receipt for a message id that is not ours cannot be delivered: purge it")

// RetryDeadLetter implements admin.Traffic: an MO goes through the MO
// routes as they are now (to the user it was for, if any), a callback is
// queued for sending again; the letter is removed once that took.
func (t *traffic) RetryDeadLetter(key int64) (int, error) {
	rm, err := t.remover()
	if err != nil {
		return 0, err
	}
	list, err := t.deadLetters(key)
	if err != nil {
		return 0, err
	}
	for i := range list {
		d := &list[i]
		switch d.Kind {
		case storage.HeldMO:
			err = t.dl.RetryDeadMO(d.SystemID, d.Body)
		case storage.HeldCallback:
			if t.webhook == nil {
				err = errors.New("no HTTP callbacks are configured")
			} else {
				err = t.webhook.Resend(d.ID, d.Body)
			}
		default:
			err = errRetryReceipt
		}
		if err != nil {
			return 0, err
		}
	}
	return rm.Remove(key)
}

// PurgeDeadLetter implements admin.Traffic.
func (t *traffic) PurgeDeadLetter(key int64) (int, error) {
	rm, err := t.remover()
	if err != nil {
		return 0, err
	}
	n, err := rm.Remove(key)
	if err == nil && n == 0 {
		err = admin.ErrTrafficNotFound
	}
	return n, err
}

// PurgeQueue implements admin.Traffic.
func (t *traffic) PurgeQueue(name string) (int, error) {
	n, err := t.hub.PurgeQueue(name)
	if errors.Is(err, flow.ErrUnknownConnector) {
		return 0, admin.ErrTrafficNotFound
	}
	return n, err
}
