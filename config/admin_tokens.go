package config

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/msg"
)

// AdminToken is one [[admin.tokens]] entry: a named credential of the admin
// API and what it may do (docs/CONFIG.md, docs/OPERATIONS.md).
type AdminToken struct {
	// Name is who the token is in the audit log and in log lines.
	Name   string   `toml:"name"`
	Scopes []string `toml:"scopes"`
	// Token is the secret ("file:" or "env:" references it), TokenSHA256
	// its SHA-256 in hex (so no secret is kept at all): exactly one.
	Token       string `toml:"token"`
	TokenSHA256 string `toml:"token_sha256"`
	// SHA256 is the hash of the secret, derived by Validate from either.
	SHA256 [32]byte `toml:"-"`
}

// AdminScopes are the scopes a token may list; the admin API gives each its
// meaning (cmd/smppd checks the two lists agree).
var AdminScopes = []string{"metrics", "read", "users", "routes", "connectors", "traffic", "operator"}

// AdminLegacyTokenName is what [admin] token is called in the audit log; no
// [[admin.tokens]] may take it.
const AdminLegacyTokenName = "admin"

// Bounds of the [admin] token and audit keys; see docs/CONFIG.md.
const (
	minAdminToken       = 16
	maxAdminTokenName   = 64
	minAuditMaxFile     = Size(64 << 10)
	maxAuditMaxFile     = Size(1 << 30)
	minAuditRetention   = time.Hour
	maxAuditRetention   = 10 * 365 * 24 * time.Hour
	auditSubdir         = "audit"
	adminTokensKey      = "admin.tokens"
	adminTokenSHA256Len = 2 * sha256.Size
)

// adminTokens checks [[admin.tokens]] and derives each SHA256.
func (v *validator) adminTokens() {
	a := &v.c.Admin
	names := map[string]bool{}
	hashes := map[[32]byte]string{}
	if a.Token != "" {
		hashes[sha256.Sum256([]byte(a.Token))] = AdminLegacyTokenName
	}
	for i := range a.Tokens {
		t := &a.Tokens[i]
		p := adminTokensKey + "[" + strconv.Itoa(i) + "]."
		switch {
		case t.Name == "":
			v.fail(p+"name", "is required: it names the token in the audit log")
		case len(t.Name) > maxAdminTokenName || !msg.PrintableNoSpace(t.Name):
			v.fail(p+"name", "%q: at most %d printable characters, no spaces", t.Name, maxAdminTokenName)
		case t.Name == AdminLegacyTokenName:
			v.fail(p+"name", "%q is the name of [admin] token: choose another", t.Name)
		case names[t.Name]:
			v.fail(p+"name", "%q names two tokens", t.Name)
		}
		names[t.Name] = true
		if len(t.Scopes) == 0 {
			v.fail(p+"scopes", "is required: one or more of %s", strings.Join(AdminScopes, ", "))
		}
		for _, s := range t.Scopes {
			if !slices.Contains(AdminScopes, s) {
				v.fail(p+"scopes", "unknown scope %q (one of %s)", s, strings.Join(AdminScopes, ", "))
			}
		}
		ref := IsSecretRef(t.Token)
		v.secret(p+"token", &t.Token) // "file:" and "env:" references
		if ref && t.Token == "" {
			continue // v.secret said why
		}
		switch {
		case (t.Token == "") == (t.TokenSHA256 == ""):
			v.fail(p+"token", "give exactly one of token and token_sha256")
			continue
		case t.Token != "":
			if len(t.Token) < minAdminToken || !msg.PrintableNoSpace(t.Token) {
				v.fail(p+"token", "must be at least %d printable characters without spaces (use a random string: openssl rand -hex 32)", minAdminToken)
				continue
			}
			t.SHA256 = sha256.Sum256([]byte(t.Token))
		default:
			b, err := hex.DecodeString(t.TokenSHA256)
			if err != nil || len(t.TokenSHA256) != adminTokenSHA256Len {
				v.fail(p+"token_sha256", "must be %d hex digits, the SHA-256 of the token (printf %%s TOKEN | sha256sum)", adminTokenSHA256Len)
				continue
			}
			copy(t.SHA256[:], b)
		}
		if other, ok := hashes[t.SHA256]; ok {
			v.fail(p+"token", "is also the secret of %q: each token needs its own", other)
		}
		hashes[t.SHA256] = t.Name
	}
}

// adminAudit checks the audit keys and settles AuditDir (validated after
// [storage], whose dir is absolute by then).
func (v *validator) adminAudit() {
	a := &v.c.Admin
	const p = "admin."
	if a.AuditMaxFile < minAuditMaxFile || a.AuditMaxFile > maxAuditMaxFile {
		v.fail(p+"audit_max_file", "%v is out of range %v..%v", a.AuditMaxFile, minAuditMaxFile, maxAuditMaxFile)
	}
	if r := a.AuditRetention.D(); r != 0 && (r < minAuditRetention || r > maxAuditRetention) {
		v.fail(p+"audit_retention", "%v is out of range %v..%v (or 0: keep every file)", a.AuditRetention, minAuditRetention, maxAuditRetention)
	}
	switch {
	case strings.ContainsRune(a.AuditDir, 0):
		v.fail(p+"audit_dir", "must not contain a NUL character")
	case a.AuditDir != "":
		dir, err := filepath.Abs(v.resolve(a.AuditDir))
		if err != nil {
			v.fail(p+"audit_dir", "%v", err)
			return
		}
		a.AuditDir = dir
	case v.c.Storage.Disk() && v.c.Storage.Dir != "":
		a.AuditDir = filepath.Join(v.c.Storage.Dir, auditSubdir)
	case a.Enabled:
		v.warn("admin: storage kind = %q and no audit_dir: the audit log is kept in memory only (the newest 10000 entries) and lost at a restart; set audit_dir", v.c.Storage.Kind)
	}
}
