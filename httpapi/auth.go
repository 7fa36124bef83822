package httpapi

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/smppd/smppd/accounts"
)

// Logins. Every request carries its credentials: Jasmin's username and
// password parameters (or HTTP basic auth in their place), or on the JSON
// API basic auth or the user's API key (Authorization: Bearer <key>, or
// X-API-Key). accounts checks them as it checks a bind: the same
// verified-credential cache, and the same failed-bind limiter, whose
// slow_delay the request waits here and whose block refuses it.

// errNoCredentials: the JSON API request carries none.
var errNoCredentials = errors.New("httpapi: no credentials")

// peerAddr is the client's address for the limiter and allow_ips.
func peerAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// loginPassword checks systemID's password for r.
func (s *Server) loginPassword(r *http.Request, systemID, password string) (*accounts.User, error) {
	ip := peerAddr(r)
	if err := s.gate(r.Context(), systemID, ip); err != nil {
		return nil, err
	}
	u, err := s.o.Users.Login(systemID, password, ip)
	if err != nil {
		s.stats.auth.Add(1)
	}
	return u, err
}

// loginJSON authenticates a JSON API request: an API key (Bearer or
// X-API-Key) or basic auth. It returns the name to report a failure with.
func (s *Server) loginJSON(r *http.Request) (*accounts.User, string, error) {
	key := r.Header.Get("X-API-Key")
	if a := r.Header.Get("Authorization"); key == "" && len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		key = strings.TrimSpace(a[7:])
	}
	if key != "" {
		name, _ := accounts.APIKeyUser(key)
		ip := peerAddr(r)
		if err := s.gate(r.Context(), name, ip); err != nil {
			return nil, name, err
		}
		u, err := s.o.Users.LoginKey(key, ip)
		if err != nil {
			s.stats.auth.Add(1)
		}
		return u, name, err
	}
	user, pw, ok := r.BasicAuth()
	if !ok {
		s.stats.auth.Add(1)
		return nil, "", errNoCredentials
	}
	u, err := s.loginPassword(r, user, pw)
	return u, user, err
}

// gate applies the failed-bind limiter before the credentials are
// checked: a blocked address or pair is refused (ErrThrottled), a slowed
// one waits slow_delay on this request's goroutine (or until the client
// goes away).
func (s *Server) gate(ctx context.Context, systemID string, ip netip.Addr) error {
	d, err := s.o.Users.Gate(systemID, ip)
	if err != nil {
		s.stats.auth.Add(1)
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// challenge asks for credentials on a 401.
func challenge(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Basic realm="smppd", charset="UTF-8", Bearer realm="smppd"`)
}
