package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
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
func engineOptions(cfg *config.Config, store *accounts.Store, ids *msg.IDGen) (engine.Options, error) {
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
		Authenticator:          authAdapter{store},
		IDs:                    ids,
	}
	o.MaxPendingBindsPerIP = cfg.BindLimits.MaxPendingPerAddress
	o.TLSHandshakeTimeout, o.TLSWriteTimeout = s.TLS.HandshakeTimeout.D(), s.TLS.WriteTimeout.D()
	if s.TLS.Enabled {
		cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
		if err != nil {
			return o, fmt.Errorf("[smpp-server.tls]: %w", err)
		}
		bind := s.TLS.Bind
		if bind == "" {
			bind = s.Bind
		}
		o.TLSAddr = net.JoinHostPort(bind, strconv.Itoa(s.TLS.Port))
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: s.TLS.MinVersionID}
	}
	return o, nil
}

// authAdapter lets the engine authenticate against the accounts store.
type authAdapter struct{ s *accounts.Store }

var _ engine.BindGate = authAdapter{} // slowed binds wait on the loops, not on auth workers

func (a authAdapter) Authenticate(req engine.BindRequest) (engine.Principal, codec.Status) {
	var bt accounts.BindType
	switch req.Type {
	case engine.BindTransmitter:
		bt = accounts.BindTransmitter
	case engine.BindReceiver:
		bt = accounts.BindReceiver
	default:
		bt = accounts.BindTransceiver
	}
	b, err := a.s.Authenticate(req.SystemID, req.Password, bt, req.Remote.Addr())
	if err != nil {
		return nil, bindStatus(err)
	}
	return b, codec.StatusOK
}

// GateBind asks the failed-bind limiter on the event loop, so that a
// slowed bind waits on the loop's timer wheel instead of an auth worker and
// a blocked one never reaches a worker (engine.BindGate).
func (a authAdapter) GateBind(req *engine.BindRequest) (time.Duration, codec.Status) {
	d, err := a.s.Gate(req.SystemID, req.Remote.Addr())
	if err != nil {
		return 0, bindStatus(err)
	}
	return d, codec.StatusOK
}

// bindStatus maps accounts errors to bind_resp statuses (SMPP 3.4 §5.1.3:
// the same ESME_RINVPASWD for an unknown id and a wrong password, so a
// prober learns nothing; policy → ESME_RBINDFAIL).
func bindStatus(err error) codec.Status {
	if errors.Is(err, accounts.ErrBadCredentials) {
		return codec.StatusInvPaswd
	}
	return codec.StatusBindFail
}
