package main

import (
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

// newLogger builds the process logger from log_level, log_file, log_format
// and log_date_format. The returned func closes a log file.
func newLogger(s *config.SMPPServer) (zerolog.Logger, func(), error) {
	var w io.Writer = os.Stderr
	closer := func() {}
	switch s.LogFile {
	case "", "stderr":
	case "stdout":
		w = os.Stdout
	default:
		f, err := os.OpenFile(s.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
		if err != nil {
			return zerolog.Logger{}, closer, fmt.Errorf("log_file: %w", err)
		}
		w, closer = f, func() { _ = f.Close() }
	}
	layout := s.LogTimeLayout
	if layout == "" {
		layout = time.RFC3339Nano
	}
	if s.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: layout, NoColor: true}
	}
	zerolog.TimeFieldFormat = layout
	lvl, err := zerolog.ParseLevel(s.LogLevel)
	if err != nil || s.LogLevel == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), closer, nil
}

func storeOptions(cfg *config.Config) accounts.Options {
	bl := cfg.BindLimits
	return accounts.Options{
		CacheTTL:  cfg.Auth.CacheTTL.D(),
		CacheSize: cfg.Auth.CacheSize,
		HeldShare: cfg.Delivery.HeldShare(),
		Limits: accounts.Limits{
			FailWindow: bl.FailWindow.D(),
			SlowAfter:  bl.SlowAfter,
			SlowDelay:  bl.SlowDelay.D(),
			BlockAfter: bl.BlockAfter,
			BlockFor:   bl.BlockFor.D(),
			MaxKeys:    bl.MaxKeys,

			AddressBlockAfter: bl.AddressBlockAfter,
		},
	}
}

// engineOptions maps [smpp-server] onto engine.Options (zero in the config
// means "off" or "unlimited" where CONFIG.md says so).
func engineOptions(cfg *config.Config, ids *msg.IDGen) (engine.Options, error) {
	s := &cfg.Server
	off := func(d time.Duration) time.Duration {
		if d == 0 {
			return -1
		}
		return d
	}
	unlimited := func(n int) int {
		if n == 0 {
			return math.MaxInt
		}
		return n
	}
	o := engine.Options{
		Addr:                   net.JoinHostPort(s.Bind, strconv.Itoa(s.Port)),
		SystemID:               s.ID,
		EventLoops:             s.EventLoops,
		MaxPDULen:              uint32(s.MaxPDULen.Int()),
		SessionInitTimeout:     s.SessionInit(),
		EnquireLinkInterval:    off(s.EnquireLink()),
		InactivityTimeout:      off(s.Inactivity()),
		ResponseTimeout:        s.Response(),
		PDUReadTimeout:         s.PDURead(),
		Tick:                   s.Tick.D(),
		MaxInFlight:            s.MaxInFlight,
		QueueFullWait:          off(s.QueueFullWait.D()),
		DeliverWindow:          s.DeliverWindow,
		MaxConnections:         unlimited(s.MaxConnections),
		MaxConnectionsPerIP:    unlimited(s.MaxConnectionsPerIP),
		MaxOutboundBacklog:     s.MaxOutboundBacklog.Int(),
		MaxOutboundUnbound:     s.MaxOutboundUnbound.Int(),
		MaxOutboundTotal:       int64(s.MaxOutboundTotal),
		MaxInboundBuffer:       s.MaxInboundBuffer.Int(),
		MaxUnexpectedResponses: s.MaxUnexpectedResponses,
		SlowConsumerTimeout:    off(s.SlowConsumerTimeout.D()),
		LogLinesPerSecond:      s.LogRateLimit,
		AuthWorkers:            cfg.Auth.Workers,
		TracePDUs:              s.TracePDUs,
		ReusePort:              s.ReusePort,
		IDs:                    ids,
	}
	o.MaxPendingBindsPerIP = cfg.BindLimits.MaxPendingPerAddress
	o.TLSHandshakeTimeout, o.TLSWriteTimeout = s.TLS.HandshakeTimeout.D(), s.TLS.WriteTimeout.D()
	o.TrustedProxies, o.ProxyHeaderTimeout = cfg.ProxyProtocol.TrustedPrefixes, cfg.ProxyProtocol.HeaderTimeout.D()
	if s.TLS.Enabled { // config read and matched the pair (SIGHUP swaps it: tlsreload.go)
		o.TLSAddr, o.TLSConfig = tlsAddr(cfg), serverTLS(&s.TLS)
	}
	return o, nil
}
