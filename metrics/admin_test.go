package metrics_test

import (
	"slices"
	"testing"

	"github.com/smppd/smppd/metrics"
)

type fakeAdmin struct{ failures, limited, forbidden, entries, errors, mo uint64 }

func (f fakeAdmin) AuthStats() (uint64, uint64, uint64) { return f.failures, f.limited, f.forbidden }
func (f fakeAdmin) AuditStats() (uint64, uint64)        { return f.entries, f.errors }
func (f fakeAdmin) MOStats() uint64                     { return f.mo }

// The admin API's counters are exported as read, under names Names lists.
func TestAdminCounters(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.Attach(metrics.Sources{Admin: fakeAdmin{failures: 7, limited: 2, forbidden: 3, entries: 41, errors: 1, mo: 5}})
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"smppd_admin_auth_failures_total": 7, "smppd_admin_auth_limited_total": 2,
		"smppd_admin_forbidden_total": 3, "smppd_admin_audit_entries_total": 41, "smppd_admin_audit_errors_total": 1,
		"smppd_admin_mo_injected_total": 5}
	for _, f := range fams {
		w, ok := want[f.GetName()]
		if !ok {
			continue
		}
		if got := f.GetMetric()[0].GetCounter().GetValue(); got != w {
			t.Errorf("%s = %v, want %v", f.GetName(), got, w)
		}
		if !slices.Contains(m.Names(), f.GetName()) {
			t.Errorf("%s is missing from Names()", f.GetName())
		}
		delete(want, f.GetName())
	}
	if len(want) > 0 {
		t.Errorf("not exported: %v", want)
	}
}
