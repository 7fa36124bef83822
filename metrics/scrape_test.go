package metrics_test

import (
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
)

type families map[string]*dto.MetricFamily

// scrape GETs url and parses the body with the Prometheus text parser.
func scrape(t testing.TB, url string) families {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the series of name whose labels include want (k=v pairs):
// counter, gauge or untyped values, or a histogram's sample count. A
// family or series that is absent counts 0 (a counter that has not moved).
func (f families) value(name string, want ...string) float64 {
	mf := f[name]
	if mf == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range mf.GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == want[i] && lp.GetValue() == want[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			sum += m.Untyped.GetValue()
		}
	}
	return sum
}

// TestScrapeCountersMove scrapes /metrics over HTTP, sends traffic through
// the whole system, scrapes again and checks that the counters moved by
// exactly the traffic sent.
func TestScrapeCountersMove(t *testing.T) {
	sys := startSystem(t)
	before := scrape(t, sys.url)

	known := map[string]bool{}
	for _, n := range sys.m.Names() {
		known[n] = true
	}
	for name, mf := range before {
		if strings.HasPrefix(name, "smppd_") && !known[name] {
			t.Errorf("exported %s (%v) is missing from Names()", name, mf.GetType())
		}
	}
	for _, name := range []string{"smppd_sessions_bound", "smppd_connector_up", "smppd_connector_queue_depth",
		"smppd_held_items", "smppd_messages_accepted_total", "smppd_connector_submitted_total",
		"process_open_fds", "go_goroutines"} {
		if before[name] == nil {
			t.Errorf("no %s before traffic", name)
		}
	}
	if v := before.value("smppd_connector_up", "connector", "sim"); v != 1 {
		t.Errorf("smppd_connector_up{connector=sim} = %v, want 1", v)
	}

	c, err := smpptest.Dial(sys.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if h, _, err := c.Bind(codec.BindTransceiverID, "alice", "pw", codec.InterfaceVersion34); err != nil || h.Status != codec.StatusOK {
		t.Fatalf("bind: %v %v", h.Status, err)
	}
	const good = 3
	for i := range good + 1 {
		p := codec.SM{SourceAddr: []byte("SHOP"), DestinationAddr: []byte("4915112345678"),
			ShortMessage: []byte("metrics"), RegisteredDelivery: 1}
		if i == good {
			p.DestinationAddr = nil // refused: ESME_RINVDSTADR, reason dest_empty
		}
		b, err := p.Append(nil, codec.Header{CommandID: codec.SubmitSMID, Sequence: c.NextSeq()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	resps := map[codec.Status]int{}
	for receipts := 0; receipts < good || resps[codec.StatusOK]+resps[codec.StatusInvDstAdr] < good+1; {
		h, _, err := c.ReadFrame(wait)
		if err != nil {
			t.Fatalf("read: %v (responses %v, receipts %d)", err, resps, receipts)
		}
		switch h.CommandID {
		case codec.SubmitSMRespID:
			resps[h.Status]++
		case codec.DeliverSMID:
			receipts++
			if err := c.Send(codec.DeliverSMRespID, codec.StatusOK, h.Sequence, []byte{0}); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected %v", h.CommandID)
		}
	}
	if resps[codec.StatusOK] != good || resps[codec.StatusInvDstAdr] != 1 {
		t.Fatalf("responses %v", resps)
	}

	// The hub counts an acknowledged receipt when the engine reports the
	// deliver_sm_resp, after the client sent it: wait for that. One scrape
	// runs its collectors concurrently, so it may read the engine's PDU
	// counts before the hub's receipts; a scrape begun after one that saw
	// the last receipt sees everything counted before it.
	eventually(t, "receipts acknowledged in /metrics", func() bool {
		f := scrape(t, sys.url)
		return f.value("smppd_user_receipts_total", "user", "alice")-before.value("smppd_user_receipts_total", "user", "alice") == good
	})
	after := scrape(t, sys.url)

	delta := func(name string, labels ...string) float64 {
		return after.value(name, labels...) - before.value(name, labels...)
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"smppd_user_submits_total", []string{"user", "alice"}, good},
		{"smppd_user_parts_total", []string{"user", "alice"}, good},
		{"smppd_user_refused_total", []string{"user", "alice", "reason", "dest_empty"}, 1},
		{"smppd_messages_accepted_total", nil, good},
		{"smppd_messages_refused_total", []string{"reason", "dest_empty"}, 1},
		{"smppd_pdus_total", []string{"direction", "in", "command", "submit_sm"}, good + 1},
		{"smppd_pdus_total", []string{"direction", "out", "command", "submit_sm_resp", "status", "ESME_ROK"}, good},
		{"smppd_pdus_total", []string{"direction", "out", "command", "submit_sm_resp", "status", "ESME_RINVDSTADR"}, 1},
		{"smppd_pdus_total", []string{"direction", "out", "command", "deliver_sm"}, good},
		{"smppd_pdus_total", []string{"direction", "in", "command", "deliver_sm_resp", "status", "ESME_ROK"}, good},
		{"smppd_pdus_total", []string{"direction", "in", "command", "bind_transceiver"}, 1},
		{"smppd_connector_submitted_total", []string{"connector", "sim"}, good},
		{"smppd_connector_accepted_total", []string{"connector", "sim"}, good},
		{"smppd_connector_receipts_total", []string{"connector", "sim"}, good},
		{"smppd_receipts_generated_total", nil, good},
		{"smppd_receipts_delivered_total", nil, good},
		{"smppd_submit_response_seconds", nil, good + 1},
		{"smppd_connector_accept_seconds", []string{"connector", "sim"}, good},
		{"smppd_connector_receipt_seconds", []string{"connector", "sim"}, good},
		{"smppd_connections_accepted_total", nil, 1},
		{"smppd_sessions_bound", nil, 1},
		{"smppd_user_binds", []string{"user", "alice", "type", "transceiver"}, 1},
		{"smppd_user_balance", []string{"user", "alice"}, -good}, // rate 1 per part
		{"smppd_storage_records", nil, good},
	}
	for _, ck := range checks {
		if got := delta(ck.name, ck.labels...); got != ck.want {
			t.Errorf("%s%v moved by %v, want %v", ck.name, ck.labels, got, ck.want)
		}
	}
	if got := after.value("smppd_user_balance", "user", "alice"); got != 100-good {
		t.Errorf("balance %v, want %v", got, 100-good)
	}
	for name, mf := range after {
		if strings.HasPrefix(name, "smppd_") && !known[name] {
			t.Errorf("exported %s (%v) is missing from Names()", name, mf.GetType())
		}
	}
}
