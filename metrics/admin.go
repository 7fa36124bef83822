package metrics

import "github.com/prometheus/client_golang/prometheus"

// Admin is what the metrics read from the admin API (*admin.Server): its
// refusals, its audit log and the MO it injected.
type Admin interface {
	AuthStats() (failures, limited, forbidden uint64)
	AuditStats() (entries, errors uint64)
	MOStats() (injected uint64)
}

// adminDescs are the admin API's metrics.
type adminDescs struct {
	authFailures, authLimited, forbidden, auditEntries, auditErrors, moInjected *prometheus.Desc
}

func (a *adminDescs) init(d func(name, help string, labels ...string) *prometheus.Desc) {
	a.authFailures = d("smppd_admin_auth_failures_total", "Admin API requests refused 401: no bearer token, or one matching no token.")
	a.authLimited = d("smppd_admin_auth_limited_total", "Admin API requests refused 429 without a look at their token: their address (IPv6: its /64) sent 10 wrong tokens in the minute.")
	a.forbidden = d("smppd_admin_forbidden_total", "Admin API requests refused 403: the token lacks the scope.")
	a.auditEntries = d("smppd_admin_audit_entries_total", "Audit log entries written (one per admin API request that may change something).")
	a.auditErrors = d("smppd_admin_audit_errors_total", "Audit log entries that could not be written: the change was answered 500 audit_failed and changes are refused until an entry is written again.")
	a.moInjected = d("smppd_admin_mo_injected_total", "MO injected through POST /v1/mo and accepted (202): delivered, held or waiting, as an upstream's MO would be.")
}

func (a *adminDescs) collect(ch chan<- prometheus.Metric, src Admin) {
	failures, limited, forbidden := src.AuthStats()
	entries, errs := src.AuditStats()
	counter(ch, a.authFailures, failures)
	counter(ch, a.authLimited, limited)
	counter(ch, a.forbidden, forbidden)
	counter(ch, a.auditEntries, entries)
	counter(ch, a.auditErrors, errs)
	counter(ch, a.moInjected, src.MOStats())
}
