package sim

import (
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
)

// The documented defaults (docs/CONFIG.md, [connector.sim]).
func TestDefaultSettings(t *testing.T) {
	s := DefaultSettings()
	if s.Latency != 0 || s.ReceiptDelay.D() != time.Second || s.Outcomes != (SettingsOutcomes{Delivered: 100}) ||
		s.Intermediate || s.Seed != 0 || s.MOEchoPrefixes != nil {
		t.Errorf("sim defaults drifted: %+v", s)
	}
	if _, ok := Kind.Settings().(*Settings); !ok || Kind.Name != "sim" || Kind.Required {
		t.Errorf("Kind %+v", Kind)
	}
}

// Build maps the settings onto Options: the config's receipt_delay 0 is
// at acceptance, the outcome weights are the percentages.
func TestBuild(t *testing.T) {
	s := DefaultSettings()
	s.ReceiptDelay = 0
	s.Outcomes = SettingsOutcomes{Delivered: 50, Rejected: 50}
	s.Seed = 7
	c, err := Kind.Build(&s, connector.Build{Name: "s", ID: 3, Queue: 16})
	if err != nil {
		t.Fatal(err)
	}
	sc := c.(*Connector)
	if sc.Name() != "s" || sc.Cap() != 16 || sc.set.id != 3 || sc.set.receiptDelay != 0 || sc.set.seed != 7 ||
		sc.set.total != 100 || sc.set.single {
		t.Fatalf("built %q cap %d settings %+v", sc.Name(), sc.Cap(), sc.set)
	}
	bad := DefaultSettings()
	bad.Outcomes = SettingsOutcomes{Delivered: -1}
	chk := connector.Check{}
	Kind.Validate(&bad, &chk)
	if len(chk.Problems) == 0 {
		t.Fatal("a negative weight passed Validate")
	}
}
