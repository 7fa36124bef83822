package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultHealthURL is the admin API of the demo config and the image.
const defaultHealthURL = "http://127.0.0.1:8790/v1/health"

// healthTimeout bounds one probe: a runtime's HEALTHCHECK kills a probe
// that outlives its own timeout, and a hung one says as much as a refusal.
const healthTimeout = 3 * time.Second

// health is `smppd health [URL]`: 0 when GET URL (the admin API's
// /v1/health, which needs no token) answers 200, 1 otherwise. The image
// is distroless (no shell, no curl), so its HEALTHCHECK runs smppd itself.
func health(args []string, errOut io.Writer) int {
	url := defaultHealthURL
	switch {
	case len(args) == 1 && !strings.HasPrefix(args[0], "-"):
		url = args[0]
	case len(args) > 0:
		fmt.Fprintln(errOut, "usage: smppd health [URL]   (default "+defaultHealthURL+")")
		return 2
	}
	c := http.Client{Timeout: healthTimeout}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(errOut, "smppd health:", err)
		return 1
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(errOut, "smppd health: %s answered %s\n", url, resp.Status)
		return 1
	}
	return 0
}
