package cluster

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// A dead peer's route errors pass once per routeLogEvery; other errors
// all pass.
func TestRouteConnectErrorsThrottled(t *testing.T) {
	var b bytes.Buffer
	l := newNATSLogger(zerolog.New(&b))
	for i := range 50 {
		l.Errorf("Error trying to connect to route (attempt %v): %v", i+1, "connection refused")
	}
	l.Errorf("JetStream cluster stream %q has NO quorum", "SMPPD_JOURNAL")
	l.Errorf("JetStream cluster stream %q has NO quorum", "SMPPD_JOURNAL")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"event":"route_connect_failed"`) || !strings.Contains(lines[0], "attempt 1)") {
		t.Fatalf("got %d lines:\n%s", len(lines), b.String())
	}
}
