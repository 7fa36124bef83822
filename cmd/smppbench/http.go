package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/smppd/smppd/bench"
)

// httpRun is the HTTP mode's result: the SMPP run it is compared with and
// each HTTP phase.
type httpRun struct {
	SMPP  *bench.Result       `json:"smpp,omitempty"`
	Modes []*bench.HTTPResult `json:"http"`
}

// runHTTP measures the SMPP load of o.cfg (sessions × window) and then the
// HTTP API's phases on the same server, one after the other, so every rate
// comes with its ratio to the SMPP rate of the same run.
func runHTTP(ctx context.Context, o *options, stdout, stderr *os.File) int {
	var out httpRun
	if !o.httpSkipSMPP {
		res, err := bench.Run(ctx, o.cfg)
		if err != nil {
			fmt.Fprintln(stderr, "smppbench:", err)
			return 1
		}
		out.SMPP = res
	}
	for _, m := range strings.Split(o.httpModes, ",") {
		hc := bench.HTTPConfig{URL: o.http, User: o.cfg.SystemID, Password: o.cfg.Password, Clients: o.httpClients,
			Duration: o.cfg.Duration, Count: o.httpCount, Warmup: o.cfg.Warmup, Dest: o.cfg.DestAddr, Text: "smppbench over HTTP"}
		m = strings.TrimSpace(m)
		if m != "mo" && o.http == "" {
			fmt.Fprintf(stderr, "smppbench: the %s phase needs -http (the HTTP API's base URL)\n", m)
			return 2
		}
		switch m {
		case "send":
			hc.Mode = bench.HTTPSend
		case "batch":
			hc.Mode, hc.Batch, hc.Clients = bench.HTTPBatch, o.httpBatch, o.httpBClients
		case "mo":
			hc.Mode, hc.URL, hc.Token = bench.HTTPMO, o.admin, o.adminToken
		default:
			fmt.Fprintf(stderr, "smppbench: -http-modes: unknown phase %q (send, batch, mo)\n", m)
			return 2
		}
		res, err := bench.RunHTTP(ctx, hc)
		if err != nil {
			fmt.Fprintln(stderr, "smppbench:", err)
			return 1
		}
		out.Modes = append(out.Modes, res)
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(&out); err != nil {
			fmt.Fprintln(stderr, "smppbench:", err)
			return 1
		}
		return 0
	}
	var smppRate float64
	if s := out.SMPP; s != nil {
		smppRate = s.SubmitRate
		fmt.Fprintf(stdout, "SMPP  %d sessions × window %d          %10s msg/s   submit→resp %s\n",
			s.Sessions, s.Window, group(uint64(s.SubmitRate)), latency(s.SubmitResp))
	}
	for _, r := range out.Modes {
		what := fmt.Sprintf("HTTP  /send, %d keep-alive clients", r.Clients)
		switch r.Mode {
		case "batch":
			what = fmt.Sprintf("HTTP  batches of %d, %d clients", r.Batch, r.Clients)
		case "mo":
			what = fmt.Sprintf("HTTP  admin /v1/mo, %d clients", r.Clients)
		}
		ratio := ""
		if smppRate > 0 {
			ratio = fmt.Sprintf(" (%.2f × SMPP)", r.MessageRate/smppRate)
		}
		fmt.Fprintf(stdout, "%-38s %10s msg/s%s   %s requests/s, request %s; %s refused, %s errors\n",
			what, group(uint64(r.MessageRate)), ratio, group(uint64(r.RequestRate)), latency(r.Latency),
			group(r.Refused), group(r.Errors))
	}
	return 0
}
