package main

import (
	"fmt"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/audit"
	"github.com/smppd/smppd/config"
)

// adminTokens turns [[admin.tokens]] (checked and hashed by config) into
// the admin API's tokens.
func adminTokens(cfg *config.Config) ([]admin.Token, error) {
	out := make([]admin.Token, len(cfg.Admin.Tokens))
	for i, t := range cfg.Admin.Tokens {
		sc, err := admin.ParseScopes(t.Scopes)
		if err != nil {
			return nil, fmt.Errorf("[[admin.tokens]] %s: %w", t.Name, err)
		}
		out[i] = admin.Token{Name: t.Name, SHA256: t.SHA256, Scopes: sc}
	}
	return out, nil
}

// openAudit opens the audit log where [admin] audit_dir says (config made
// it <storage.dir>/audit with the disk store; "" keeps it in memory).
func openAudit(cfg *config.Config, log zerolog.Logger) (*audit.Log, error) {
	a := &cfg.Admin
	l, err := audit.Open(audit.Options{Dir: a.AuditDir, MaxFileSize: int64(a.AuditMaxFile),
		Retention: a.AuditRetention.D(), Logger: log})
	if err != nil {
		return nil, fmt.Errorf("[admin] audit_dir %s: %w", a.AuditDir, err)
	}
	where := a.AuditDir
	if where == "" {
		where = "memory"
	}
	log.Info().Str("event", "audit_open").Str("dir", where).Msg("audit log open")
	return l, nil
}

// reloadAdminTokens swaps in cfg's [admin] token and [[admin.tokens]]
// (SIGHUP): a token added, rotated or revoked applies to the next request.
// The rest of [admin] needs a restart.
func (d *daemon) reloadAdminTokens(cfg *config.Config) {
	if d.admin == nil {
		return
	}
	tokens, err := adminTokens(cfg)
	if err != nil {
		d.log.Error().Str("event", "reload").Err(err).Msg("admin tokens not reloaded; the previous ones stay in force")
		return
	}
	d.admin.SetTokens(cfg.Admin.Token, tokens)
	d.log.Info().Str("event", "reload").Int("admin_tokens", len(tokens)).Bool("legacy_token", cfg.Admin.Token != "").
		Msg("admin tokens reloaded")
}
