package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/smppd/smppd/bench"
)

// options is the parsed command line.
type options struct {
	cfg  bench.Config
	json bool
	// idle > 0 selects the idle mode: bind that many sessions and hold
	// them (bench.Idle) instead of sending traffic.
	idle     int
	hold     time.Duration
	parallel int
	// http, when set, selects the HTTP mode (http.go): the SMPP run of
	// cfg first (unless httpSkipSMPP), then each HTTP phase, each with
	// its rate as a ratio to the SMPP rate.
	http         string
	httpModes    string
	httpClients  int
	httpBatch    int
	httpBClients int
	httpSkipSMPP bool
	httpOn       bool   // -http or -http-modes given: the HTTP mode
	admin        string // the mo phase's admin API base URL
	adminToken   string
	httpCount    uint64
}

// parseFlags reads args into options. Usage and errors go to out.
func parseFlags(args []string, out io.Writer) (options, error) {
	var o options
	c := &o.cfg
	fs := flag.NewFlagSet("smppbench", flag.ContinueOnError)
	fs.SetOutput(out)
	host := fs.String("host", "127.0.0.1", "SMSC host")
	port := fs.Int("port", 2775, "SMSC port")
	fs.StringVar(&c.SystemID, "user", "demo", "bind system_id")
	fs.StringVar(&c.Password, "password", "demopass", "bind password")
	fs.StringVar(&c.SystemType, "system-type", "", "bind system_type")
	bind := fs.String("bind", "trx", "bind as tx (transmitter) or trx (transceiver)")
	fs.IntVar(&c.Sessions, "sessions", 1, "concurrent bound sessions")
	fs.IntVar(&c.Window, "window", 10, "outstanding submit_sm per session")
	fs.DurationVar(&c.Duration, "duration", 0, "measured sending time (default 10s when -count is not set)")
	fs.Int64Var(&c.Count, "count", 0, "submit_sm to send after warm-up, over all sessions (0 = by -duration)")
	fs.DurationVar(&c.Warmup, "warmup", 0, "send this long before measuring")
	fs.Float64Var(&c.Rate, "rate", 0, "target submit_sm per second over all sessions, open loop (0 = as fast as the window allows)")
	fs.StringVar(&c.Mix, "mix", "gsm7", "message mix: gsm7 | ucs2 | long (3-part concatenated), or weighted: gsm7:70,ucs2:20,long:10")
	fs.IntVar(&c.Chars, "chars", 0, "GSM7 characters of every gsm7 and long message: one submit_sm up to 160, concatenated parts of 153 past it (0 = the kinds' own lengths)")
	fs.BoolVar(&c.Receipts, "dlr", false, "request delivery receipts (registered_delivery=1) and measure submit→receipt; needs -bind trx")
	fs.DurationVar(&c.ReceiptWait, "dlr-wait", 10*time.Second, "after sending, wait this long for missing receipts")
	fs.DurationVar(&c.DrainWait, "drain-wait", 5*time.Second, "after sending, wait this long for outstanding responses")
	fs.StringVar(&c.SourceAddr, "src", "smppbench", "source_addr of every submit_sm")
	fs.StringVar(&c.DestAddr, "dst", "491701234567", "destination_addr of every submit_sm")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON instead of the summary")
	fs.IntVar(&o.idle, "idle", 0, "idle mode: bind this many sessions and hold them without traffic (answering enquire_link)")
	fs.DurationVar(&o.hold, "hold", 0, "idle mode: hold the sessions this long once bound (0 = until SIGINT/SIGTERM)")
	fs.IntVar(&o.parallel, "parallel", 64, "idle mode: binds in flight at once")
	fs.StringVar(&o.http, "http", "", "HTTP mode: the HTTP API's base URL (http://127.0.0.1:1401); runs the SMPP load first, then the HTTP phases, each for -duration")
	fs.StringVar(&o.httpModes, "http-modes", "send,batch", "HTTP phases: send (GET /send), batch (POST /v1/messages), mo (the admin API's POST /v1/mo, at -admin)")
	fs.IntVar(&o.httpClients, "http-clients", 64, "HTTP mode: concurrent keep-alive clients of the send phase")
	fs.IntVar(&o.httpBatch, "http-batch", 1000, "HTTP mode: messages per POST /v1/messages")
	fs.IntVar(&o.httpBClients, "http-batch-clients", 4, "HTTP mode: concurrent clients of the batch phase")
	fs.BoolVar(&o.httpSkipSMPP, "http-only", false, "HTTP mode: skip the SMPP run (no ratios)")
	fs.Uint64Var(&o.httpCount, "http-count", 0, "HTTP mode: end each phase once this many requests are measured (0 = by -duration alone)")
	fs.StringVar(&o.admin, "admin", "http://127.0.0.1:8790", "HTTP mode's mo phase: the admin API's base URL")
	fs.StringVar(&o.adminToken, "admin-token", "", "HTTP mode's mo phase: the admin API's bearer token (a traffic scope)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	fs.Visit(func(f *flag.Flag) { o.httpOn = o.httpOn || f.Name == "http" || f.Name == "http-modes" })
	switch *bind {
	case "tx", "transmitter":
		c.Bind = bench.BindTransmitter
	case "trx", "transceiver":
		c.Bind = bench.BindTransceiver
	default:
		return o, fmt.Errorf("-bind %q: want tx or trx", *bind)
	}
	if *port <= 0 || *port > 65535 {
		return o, errors.New("-port must be 1..65535")
	}
	if o.idle < 0 || o.hold < 0 || o.parallel < 1 {
		return o, errors.New("-idle and -hold must not be negative, -parallel at least 1")
	}
	if c.Sessions < 1 || c.Window < 1 {
		return o, errors.New("-sessions and -window must be at least 1")
	}
	c.Addr = net.JoinHostPort(*host, strconv.Itoa(*port))
	c.Defaults()
	return o, c.Validate()
}
