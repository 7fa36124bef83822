package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/smppd/smppd/metrics"
)

const dashboardFile = "../deploy/grafana/smppd-dashboard.json"

// metricRef finds the metric names a PromQL expression uses: ours and the
// Go client's runtime and process collectors. Label names, functions and
// label values never start with these prefixes.
var metricRef = regexp.MustCompile(`\b(?:smppd|process|go)_[a-zA-Z0-9_:]*`)

// TestDashboardUsesExportedMetrics parses the Grafana dashboard and checks
// that every query names only metrics the package registers, so a renamed
// metric cannot leave an empty panel behind.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Title  string `json:"title"`
		Panels []struct {
			ID      int    `json:"id"`
			Type    string `json:"type"`
			Title   string `json:"title"`
			Targets []struct {
				Expr  string `json:"expr"`
				RefID string `json:"refId"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Fatal("dashboard needs a uid and a title")
	}

	m := metrics.New(metrics.Options{Connectors: []string{"c"}})
	known := map[string]bool{}
	for _, n := range m.Names() {
		known[n] = true
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		known[f.GetName()] = true // the runtime and process collectors
	}
	histograms := map[string]bool{metrics.SubmitLatencyName: true, metrics.AcceptLatencyName: true, metrics.ReceiptLatencyName: true}
	check := func(where, expr string) {
		refs := metricRef.FindAllString(expr, -1)
		if len(refs) == 0 {
			t.Errorf("%s: %q names no metric", where, expr)
		}
		for _, r := range refs {
			base := r
			for _, suf := range []string{"_bucket", "_count", "_sum"} {
				if b := strings.TrimSuffix(r, suf); b != r && histograms[b] {
					base = b
				}
			}
			if !known[base] {
				t.Errorf("%s: %q uses %s, which the metrics package does not export", where, expr, r)
			}
		}
	}

	ids := map[int]bool{}
	queries := 0
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title+" "+tg.RefID, tg.Expr)
			queries++
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		check("variable "+v.Name, q.Query)
	}
	if queries < 20 {
		t.Fatalf("only %d queries: the dashboard did not parse as expected", queries)
	}
}
