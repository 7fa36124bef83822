package config

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/smppd/smppd/internal/netguard"
)

// Webhook is [webhook]: HTTP callbacks, receipts to the dlr-url of a
// message submitted over HTTP and MO to an [[mo_route]]'s url. Their
// lifetime and retry backoff are [delivery]'s hold_lifetime, retry_min and
// retry_max; they are held in the store's held items (max_held) as they
// wait.
type Webhook struct {
	// Timeout bounds one request, connection to the end of the answer.
	Timeout Duration `toml:"timeout"`
	// MaxPerTarget bounds the requests in flight to one target (scheme,
	// host and port): a slow endpoint holds up only its own callbacks.
	MaxPerTarget int `toml:"max_per_target"`
	// MaxPending bounds the callbacks waiting (in memory and in the hold
	// store) for all targets, 0 = half of [delivery] max_held;
	// MaxPendingPerTarget for one target, 0 = a fifth of max_pending. A
	// callback beyond either is refused and kept as a dead letter. Read
	// them resolved: Pending, PendingPerTarget.
	MaxPending          int `toml:"max_pending"`
	MaxPendingPerTarget int `toml:"max_pending_per_target"`
	// ReceiptAckBody, when set, is the body a receipt callback's 2xx
	// answer must carry ("ACK/Jasmin" for Jasmin's clients); "" = any 2xx.
	ReceiptAckBody string `toml:"receipt_ack_body"`
	// DenyNetworks are the addresses a receipt callback (a customer's
	// dlr-url) may not reach, unless AllowNetworks holds them too: CIDRs
	// or single addresses. Read them parsed: Networks.
	DenyNetworks  []string `toml:"deny_networks"`
	AllowNetworks []string `toml:"allow_networks"`
}

// DefaultWebhook is [webhook] when the file says nothing.
func DefaultWebhook() Webhook {
	return Webhook{
		Timeout:             Duration(10 * time.Second),
		MaxPerTarget:        8,
		MaxPending:          0,
		MaxPendingPerTarget: 0,
		DenyNetworks:        slices.Clone(netguard.DefaultDeny),
		AllowNetworks:       []string{},
	}
}

// Networks are deny_networks and allow_networks parsed; the error names
// the key and the entry that does not read.
func (w *Webhook) Networks() (deny, allow []netip.Prefix, err error) {
	if deny, err = netguard.ParsePrefixes(w.DenyNetworks); err != nil {
		return nil, nil, fmt.Errorf("webhook.deny_networks: %w", err)
	}
	if allow, err = netguard.ParsePrefixes(w.AllowNetworks); err != nil {
		return nil, nil, fmt.Errorf("webhook.allow_networks: %w", err)
	}
	return deny, allow, nil
}

// Pending is max_pending resolved against [delivery] max_held.
func (w *Webhook) Pending(d *Delivery) int {
	if w.MaxPending > 0 {
		return w.MaxPending
	}
	return max(d.MaxHeld/2, 1)
}

// PendingPerTarget is max_pending_per_target resolved.
func (w *Webhook) PendingPerTarget(d *Delivery) int {
	if w.MaxPendingPerTarget > 0 {
		return w.MaxPendingPerTarget
	}
	return max(w.Pending(d)/5, 1)
}
