package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/smppd/smppd/internal/netguard"
)

// loadWebhook loads src as a main config file of its own directory.
func loadWebhook(t *testing.T, src string) (*Config, error) {
	t.Helper()
	return Load(writeConfig(t, map[string]string{"smppd.toml": src}))
}

// TestWebhookRefused: every [webhook] key out of range is refused naming
// the key; a route secret reference is read, a user's is refused.
func TestWebhookRefused(t *testing.T) {
	cases := []struct{ toml, key string }{
		{"[webhook]\ntimeout = \"50ms\"", "webhook.timeout"},
		{"[webhook]\ntimeout = \"6m\"", "webhook.timeout"},
		{"[webhook]\nmax_per_target = 0", "webhook.max_per_target"},
		{"[webhook]\nmax_per_target = 1025", "webhook.max_per_target"},
		{"[webhook]\nmax_pending = -1", "webhook.max_pending"},
		{"[delivery]\nmax_held = 100\n[webhook]\nmax_pending = 101", "webhook.max_pending"},
		{"[webhook]\nmax_pending = 10\nmax_pending_per_target = 11", "webhook.max_pending_per_target"},
		{"[webhook]\nreceipt_ack_body = \"ACK\\n\"", "webhook.receipt_ack_body"},
		{"[webhook]\ndeny_networks = [\"10.0.0.0/33\"]", "webhook.deny_networks[0]"},
		{"[webhook]\nallow_networks = [\"127.0.0.0/8\", \"localhost\"]", "webhook.allow_networks[1]"},
		{"[[user]]\nsystem_id = \"u\"\npassword_hash = \"" + testHash + "\"\ncallback_secret = \"env:SMPPD_DLR_SECRET_X\"", "callback_secret"},
		{"[[user]]\nsystem_id = \"u\"\npassword_hash = \"" + testHash + "\"\ncallback_secret = \"short\"", "callback_secret"},
		{"[[mo_route]]\nname = \"m\"\nurl = \"http://h/\"\nsecret = \"env:SMPPD_NO_SUCH_VARIABLE_X\"", "mo_route[0].secret"},
	}
	for _, c := range cases {
		_, err := loadWebhook(t, c.toml)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%q: %v, want an error naming %s", c.toml, err, c.key)
		}
	}
}

// TestWebhookDefaults: max_pending is half of max_held, the per-target
// bound a fifth of that, unless set.
func TestWebhookDefaults(t *testing.T) {
	c, err := loadWebhook(t, "[delivery]\nmax_held = 1000")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Webhook.Pending(&c.Delivery); got != 500 {
		t.Fatalf("Pending = %d, want 500", got)
	}
	if got := c.Webhook.PendingPerTarget(&c.Delivery); got != 100 {
		t.Fatalf("PendingPerTarget = %d, want 100", got)
	}
	t.Setenv("SMPPD_MO_SECRET_TEST", "from-the-environment-0123")
	c, err = loadWebhook(t, "[[mo_route]]\nname = \"m\"\nurl = \"http://h/\"\nsecret = \"env:SMPPD_MO_SECRET_TEST\"")
	if err != nil {
		t.Fatal(err)
	}
	if c.MORoutes[0].Secret != "from-the-environment-0123" {
		t.Fatalf("secret = %q, want the variable's value", c.MORoutes[0].Secret)
	}
}

// TestWebhookNetworks: without the keys the production deny list applies
// (loopback, link-local and private ranges denied, nothing allowed); a
// file's lists replace them.
func TestWebhookNetworks(t *testing.T) {
	c, err := loadWebhook(t, "")
	if err != nil {
		t.Fatal(err)
	}
	deny, allow, err := c.Webhook.Networks()
	if err != nil || len(allow) != 0 {
		t.Fatalf("allow %v, %v", allow, err)
	}
	for _, want := range []string{"127.0.0.0/8", "169.254.0.0/16", "10.0.0.0/8", "::/96", "fe80::/10"} {
		found := false
		for _, p := range deny {
			found = found || p.String() == want
		}
		if !found {
			t.Errorf("default deny_networks lacks %s: %v", want, deny)
		}
	}
	c, err = loadWebhook(t, "[webhook]\ndeny_networks = [\"10.0.0.0/8\"]\nallow_networks = [\"10.1.0.0/16\", \"10.2.3.4\"]")
	if err != nil {
		t.Fatal(err)
	}
	deny, allow, err = c.Webhook.Networks()
	if err != nil || len(deny) != 1 || len(allow) != 2 || allow[1].String() != "10.2.3.4/32" {
		t.Fatalf("deny %v allow %v, %v", deny, allow, err)
	}
}

// TestDemoNetworks: the demo config shows the default deny list as it is
// and allows loopback only (its receivers and tests run there).
func TestDemoNetworks(t *testing.T) {
	c, err := Load("../configs/smppd.toml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Webhook.DenyNetworks, netguard.DefaultDeny) {
		t.Errorf("demo deny_networks %v, want the default %v", c.Webhook.DenyNetworks, netguard.DefaultDeny)
	}
	if !slices.Equal(c.Webhook.AllowNetworks, []string{"127.0.0.0/8", "::1/128"}) {
		t.Errorf("demo allow_networks %v", c.Webhook.AllowNetworks)
	}
}
