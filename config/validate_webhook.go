package config

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/smppd/smppd/internal/netguard"
)

// webhook checks [webhook] and resolves the MO routes' secrets ("file:"
// or "env:" references). A user's callback_secret is written as it is:
// the users file is rewritten at run time, which would put a referenced
// secret in it (accounts checks its length).
func (v *validator) webhook() {
	w := &v.c.Webhook
	const p = "webhook."
	if d := w.Timeout.D(); d < 100*time.Millisecond || d > 5*time.Minute {
		v.fail(p+"timeout", "%v is out of range 100ms..5m", w.Timeout)
	}
	v.intRange(p+"max_per_target", w.MaxPerTarget, 1, 1024)
	v.intRange(p+"max_pending", w.MaxPending, 0, v.c.Delivery.MaxHeld)
	v.intRange(p+"max_pending_per_target", w.MaxPendingPerTarget, 0, w.Pending(&v.c.Delivery))
	if len(w.ReceiptAckBody) > 255 || !printableASCII(w.ReceiptAckBody) {
		v.fail(p+"receipt_ack_body", "must be at most 255 printable ASCII characters")
	}
	v.networks(p+"deny_networks", w.DenyNetworks)
	v.networks(p+"allow_networks", w.AllowNetworks)
	v.moURLs()
	for i := range v.c.MORoutes {
		v.secret("mo_route["+strconv.Itoa(i)+"].secret", &v.c.MORoutes[i].Secret)
	}
	for i := range v.c.Users {
		if IsSecretRef(v.c.Users[i].CallbackSecret) {
			v.fail("user["+strconv.Itoa(i)+"].callback_secret", "write the secret itself: the users file is rewritten at run time, so a reference is not read here")
		}
	}
}

// lookupNetIP resolves an MO route's host at load; a variable for tests.
var lookupNetIP netguard.Lookup = net.DefaultResolver.LookupNetIP

// moLookupTimeout bounds the lookups of all MO route hosts at one load.
const moLookupTimeout = 3 * time.Second

// moURLs puts the MO routes' urls through [webhook]'s address guard, the
// one the dlr-urls go through: a url whose host is, or resolves to, a
// denied address not in allow_networks is refused. A host that does not
// resolve now is a warning: the sender checks each address it dials.
func (v *validator) moURLs() {
	w := &v.c.Webhook
	deny, allow, err := w.Networks()
	if err != nil {
		return // the networks' own failure is reported
	}
	g := netguard.New(deny, allow)
	ctx, cancel := context.WithTimeout(context.Background(), moLookupTimeout)
	defer cancel()
	for i := range v.c.MORoutes {
		u := v.c.MORoutes[i].URL
		if u == "" {
			continue
		}
		key := "mo_route[" + strconv.Itoa(i) + "].url"
		switch err := g.CheckResolvedURL(ctx, u, lookupNetIP); {
		case errors.Is(err, netguard.ErrDenied):
			v.fail(key, "%v: add it to webhook.allow_networks if this receiver is yours", err)
		case err != nil:
			v.warn("%s: %v; each address is checked against webhook.deny_networks when the MO is sent", key, err)
		}
	}
}

// networks checks a list of CIDRs or addresses (at most 1,024: each
// connection is checked against all of them).
func (v *validator) networks(key string, list []string) {
	if len(list) > 1024 {
		v.fail(key, "%d entries, at most 1024", len(list))
		return
	}
	for i, s := range list {
		if _, err := netguard.ParsePrefix(s); err != nil {
			v.fail(key+"["+strconv.Itoa(i)+"]", "%q is not a CIDR (10.0.0.0/8) or an address (192.0.2.7, ::1)", s)
		}
	}
}

// printableASCII reports whether s holds only printable ASCII.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
