package flow

import (
	"errors"
	"time"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
)

// The hub serves sessions that the accounts store bound. New requires
// Options.Accounts, and Authenticator is the engine's Authenticator over it:
// a bind it grants carries the *accounts.Bind the store returned as its
// engine.Principal. The per-request path therefore reads the user from the
// principal without handling another kind (userOf); an engine wired with
// another Authenticator fails at its first MT request, which the engine
// recovers as a bug (the session closes, internal_error).

// authenticator decides binds against the accounts store for the engine.
type authenticator struct{ s *accounts.Store }

// Authenticator returns the engine's Authenticator over the hub's accounts
// store. It is an engine.BindGate too: a slowed bind waits on its event
// loop's timer wheel, not on an auth worker, and a blocked one never
// reaches a worker.
func (h *Hub) Authenticator() engine.Authenticator { return authenticator{h.accounts} }

// NewAuthenticator is the hub's Authenticator on s before any hub exists
// (an upgrade's new process takes binds while it waits for its store): the
// principals it makes are the ones the hub built on s expects.
func NewAuthenticator(s *accounts.Store) engine.Authenticator { return authenticator{s} }

var _ engine.BindGate = authenticator{}

// Authenticate checks the bind with the accounts store.
func (a authenticator) Authenticate(req engine.BindRequest) (engine.Principal, codec.Status) {
	var bt accounts.BindType
	switch req.Type {
	case engine.BindTransmitter:
		bt = accounts.BindTransmitter
	case engine.BindReceiver:
		bt = accounts.BindReceiver
	default:
		bt = accounts.BindTransceiver
	}
	var peer *accounts.PeerCert
	if req.Peer != nil { // a verified TLS client certificate, for users pinned to one
		peer = &accounts.PeerCert{Subject: req.Peer.Subject, SHA256: req.Peer.SHA256}
	}
	b, err := a.s.AuthenticatePeer(req.SystemID, req.Password, bt, req.Remote.Addr(), peer)
	if err != nil {
		return nil, bindStatus(err)
	}
	return b, codec.StatusOK
}

// GateBind asks the failed-bind limiter, on the event loop.
func (a authenticator) GateBind(req *engine.BindRequest) (time.Duration, codec.Status) {
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

// userOf returns the user of a session the hub's Authenticator bound (the
// principal is an *accounts.Bind: see above). The record is immutable once
// published: the hub reads its fields without a lock.
func userOf(p engine.Principal) *accounts.User { return p.(*accounts.Bind).User() }
