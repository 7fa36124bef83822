package metrics_test

import (
	"testing"

	"github.com/smppd/smppd/metrics"
)

// Before Attach (the engine and the hub are built after New) a scrape
// serves the histograms and the runtime metrics and nothing of the
// components, without error.
func TestGatherBeforeAttach(t *testing.T) {
	m := metrics.New(metrics.Options{Connectors: []string{"a", "b"}})
	m.AcceptLatency()[1].Observe(0.5)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		got[f.GetName()] = true
		if f.GetName() == metrics.AcceptLatencyName {
			for _, mt := range f.GetMetric() {
				if mt.GetLabel()[0].GetValue() == "b" && mt.GetHistogram().GetSampleCount() != 1 {
					t.Errorf("connector b: %d samples, want 1", mt.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	if !got[metrics.AcceptLatencyName] || !got[metrics.SubmitLatencyName] || !got["go_goroutines"] {
		t.Fatalf("families %v", got)
	}
	if got["smppd_sessions_bound"] {
		t.Fatal("component metrics before Attach")
	}
	if len(m.AcceptLatency()) != 2 || len(m.ReceiptLatency()) != 2 {
		t.Fatal("one observer per connector")
	}
}
