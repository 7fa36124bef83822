package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smppd/smppd/accounts"
)

// User is a user as the API shows it: never the password hash.
type User struct {
	SystemID        string       `json:"system_id"`
	Enabled         bool         `json:"enabled"`
	Active          bool         `json:"active"` // enabled and its group enabled
	Group           string       `json:"group,omitempty"`
	BindTypes       []string     `json:"bind_types"`
	MaxBinds        int          `json:"max_binds"`
	MaxBindsPerType BindsPerType `json:"max_binds_per_type"`
	AllowIPs        []string     `json:"allow_ips"`
	DefaultSource   string       `json:"default_source,omitempty"`
	SourceAddrs     []string     `json:"source_addrs"`
	Receipts        bool         `json:"receipts"`
	Throughput      float64      `json:"throughput"`
	Burst           int          `json:"burst"`
	Balance         string       `json:"balance"`
	Quota           int64        `json:"quota"`
	QuotaUsed       int64        `json:"quota_used"`
	MaxValidity     string       `json:"max_validity"`
	MaxPriority     int          `json:"max_priority"`
	MaxHeldPerUser  int          `json:"max_held_per_user"` // 0: the group's or [delivery]'s
	Binds           int          `json:"binds"`             // held now
	Deny            []string     `json:"deny"`              // HTTP API rights not granted
	APIKey          bool         `json:"api_key"`           // an HTTP API key is set (never its hash)
	CallbackSecret  bool         `json:"callback_secret"`   // receipt callbacks are signed (never the secret)
}

// BindsPerType is max_binds_per_type; 0 = unlimited.
type BindsPerType struct {
	Transmitter int `json:"transmitter"`
	Receiver    int `json:"receiver"`
	Transceiver int `json:"transceiver"`
}

// UserList is the body of GET /v1/users.
type UserList struct {
	Users []User `json:"users"`
}

// userInput is the body of POST /v1/users and PATCH /v1/users/{id}: a
// field left out is not changed (PATCH) or takes the users file's default
// (POST).
type userInput struct {
	SystemID        *string       `json:"system_id"`
	Password        *string       `json:"password"`
	Enabled         *bool         `json:"enabled"`
	Group           *string       `json:"group"`
	BindTypes       *[]string     `json:"bind_types"`
	MaxBinds        *int          `json:"max_binds"`
	MaxBindsPerType *BindsPerType `json:"max_binds_per_type"`
	AllowIPs        *[]string     `json:"allow_ips"`
	DefaultSource   *string       `json:"default_source"`
	SourceAddrs     *[]string     `json:"source_addrs"`
	Receipts        *bool         `json:"receipts"`
	Throughput      *float64      `json:"throughput"`
	Burst           *int          `json:"burst"`
	Balance         *amountText   `json:"balance"`
	Quota           *int64        `json:"quota"`
	MaxValidity     *string       `json:"max_validity"`
	MaxPriority     *int          `json:"max_priority"`
	MaxHeldPerUser  *int          `json:"max_held_per_user"`
	Deny            *[]string     `json:"deny"`
	APIKeyHash      *string       `json:"api_key_hash"`    // from `smppd apikey`; "" removes the key
	CallbackSecret  *string       `json:"callback_secret"` // signs receipt callbacks; "" removes it
}

// balanceInput is the body of POST /v1/users/{id}/balance.
type balanceInput struct {
	TopUp *amountText `json:"topup"`
	Set   *amountText `json:"set"`
}

// amountText accepts an amount as a JSON string ("12.5", "unlimited") or
// number (12.5), and keeps the text so it is parsed exactly, never through
// float64.
type amountText string

func (a *amountText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = amountText(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New(`an amount is a string ("12.5", "unlimited") or a number`)
	}
	*a = amountText(n)
	return nil
}

func (s *Server) userRoutes() {
	s.mux.HandleFunc("GET /v1/users", s.listUsers)
	s.mux.HandleFunc("POST /v1/users", s.addUser)
	s.mux.HandleFunc("GET /v1/users/{id}", s.showUser)
	s.mux.HandleFunc("PATCH /v1/users/{id}", s.patchUser)
	s.mux.HandleFunc("DELETE /v1/users/{id}", s.deleteUser)
	s.mux.HandleFunc("POST /v1/users/{id}/enable", func(w http.ResponseWriter, r *http.Request) { s.setEnabled(w, r, true) })
	s.mux.HandleFunc("POST /v1/users/{id}/disable", func(w http.ResponseWriter, r *http.Request) { s.setEnabled(w, r, false) })
	s.mux.HandleFunc("POST /v1/users/{id}/balance", s.balance)
	s.mux.HandleFunc("POST /v1/users/{id}/callback-secret", s.rotateCallbackSecret)
}

func (s *Server) store(w http.ResponseWriter) *accounts.Store {
	if s.opts.Users == nil {
		unwired(w, "users")
	}
	return s.opts.Users
}

func (s *Server) listUsers(w http.ResponseWriter, _ *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	us := st.Users()
	out := UserList{Users: make([]User, len(us))}
	for i := range us {
		out.Users[i] = userView(st, &us[i])
	}
	writeJSON(w, http.StatusOK, &out)
}

func (s *Server) showUser(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	s.writeUser(w, st, r.PathValue("id"), http.StatusOK)
}

// writeUser answers with the user's current record.
func (s *Server) writeUser(w http.ResponseWriter, st *accounts.Store, id string, status int) {
	u, ok := st.Lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no user "+id)
		return
	}
	writeJSON(w, status, userView(st, &u))
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	var in userInput
	if !decodeJSON(w, r, &in) {
		return
	}
	if in.SystemID == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid", "system_id is required")
		return
	}
	if in.Password == nil {
		writeError(w, http.StatusUnprocessableEntity, "invalid", "password is required")
		return
	}
	id := *in.SystemID
	if _, ok := st.Lookup(id); ok {
		writeError(w, http.StatusConflict, "conflict", "user "+id+" exists: change it with PATCH /v1/users/"+id)
		return
	}
	spec := accounts.DefaultSpec() // a key left out takes the users file's default
	spec.SystemID = id
	u, warns, msg := parseInput(st, &spec, &in, true)
	if msg != "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	if !s.storeError(w, st.Upsert(u)) {
		return
	}
	s.opts.Logger.Info().Str("event", "user_added").Str("system_id", id).Strs("warnings", warns).Msg("operator added a user")
	s.writeUser(w, st, id, http.StatusCreated)
}

func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	var in userInput
	if !decodeJSON(w, r, &in) {
		return
	}
	u, ok := st.Lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no user "+id)
		return
	}
	switch {
	case in.SystemID != nil && *in.SystemID != id:
		writeError(w, http.StatusUnprocessableEntity, "invalid", "system_id cannot be changed")
		return
	case in.Balance != nil:
		writeError(w, http.StatusUnprocessableEntity, "invalid", "change the balance with POST /v1/users/"+id+"/balance")
		return
	}
	spec := u.Spec()
	u, warns, msg := parseInput(st, &spec, &in, false)
	if msg != "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	if !s.storeError(w, st.Upsert(u)) {
		return
	}
	s.opts.Logger.Info().Str("event", "user_changed").Str("system_id", id).Bool("password", in.Password != nil).
		Bool("callback_secret", in.CallbackSecret != nil).Strs("warnings", warns).Msg("operator changed a user")
	s.writeUser(w, st, id, http.StatusOK)
}

// deleteUser removes a user: it can no longer bind; binds it holds stay
// up, inactive (their submits are refused). In a cluster, on every node.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	if !s.storeError(w, st.Remove(id)) {
		return
	}
	s.opts.Logger.Info().Str("event", "user_removed").Str("system_id", id).Msg("operator removed a user")
	writeJSON(w, http.StatusOK, map[string]string{"system_id": id, "status": "removed"})
}

func (s *Server) setEnabled(w http.ResponseWriter, r *http.Request, on bool) {
	st := s.store(w)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	if !s.storeError(w, st.SetEnabled(id, on)) {
		return
	}
	s.opts.Logger.Info().Str("event", "user_enabled").Str("system_id", id).Bool("enabled", on).Msg("operator changed a user")
	s.writeUser(w, st, id, http.StatusOK)
}

func (s *Server) balance(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	var in balanceInput
	if !decodeJSON(w, r, &in) {
		return
	}
	if (in.TopUp == nil) == (in.Set == nil) {
		writeError(w, http.StatusUnprocessableEntity, "invalid", `give exactly one of "topup" and "set"`)
		return
	}
	var err error
	var op string
	if in.TopUp != nil {
		op = "topup"
		var a accounts.Amount
		if a, err = accounts.ParseAmount(string(*in.TopUp)); err == nil {
			if a.IsUnlimited() {
				err = fmt.Errorf(`%w: a top-up is a number; use {"set": "unlimited"}`, accounts.ErrAmount)
			} else {
				err = st.TopUp(id, a)
			}
		}
	} else {
		op = "set"
		var a accounts.Amount
		if a, err = accounts.ParseAmount(string(*in.Set)); err == nil {
			err = st.SetBalance(id, a)
		}
	}
	if !s.storeError(w, err) {
		return
	}
	u, ok := st.Lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no user "+id)
		return
	}
	bal := u.Limits.Balance.String()
	s.opts.Logger.Info().Str("event", "balance").Str("system_id", id).Str("op", op).Str("balance", bal).
		Msg("operator changed a balance")
	writeJSON(w, http.StatusOK, map[string]string{"system_id": id, "balance": bal})
}

// storeError answers a failed Store change and reports whether err was nil.
// A save failure is 500: the change is in force but the users file is
// behind (the Store retries on its next Persist). A ledger failure is 503:
// nothing changed (a full or failing disk), the caller may retry.
func (s *Server) storeError(w http.ResponseWriter, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, accounts.ErrNotSaved):
		s.opts.Logger.Error().Str("event", "users_save").Err(err).Msg("users file not written")
		writeError(w, http.StatusInternalServerError, "not_saved", err.Error()+" (the change is in force until a restart)")
	case errors.Is(err, accounts.ErrLedger):
		s.opts.Logger.Error().Str("event", "ledger").Err(err).Msg("balance ledger not written: change refused")
		writeError(w, http.StatusServiceUnavailable, "ledger_unavailable", err.Error()+" (nothing changed)")
	case errors.Is(err, accounts.ErrUnknownUser):
		writeError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, accounts.ErrUnlimitedBalance):
		writeError(w, http.StatusConflict, "conflict", err.Error()+`: set a number first with {"set": "..."}`)
	default:
		writeError(w, http.StatusUnprocessableEntity, "invalid", err.Error())
	}
	return false
}

// parseInput applies in to spec (a user as the users file says it) and
// parses the result with the users file's rules (accounts.ParseUser), so the
// API accepts exactly what a restart would read back from the users file it
// saves to. It returns the user, the warnings, and what is wrong ("" when
// nothing is), as "key: reason; key: reason".
func parseInput(st *accounts.Store, spec *accounts.UserSpec, in *userInput, create bool) (accounts.User, []string, string) {
	if in.Password != nil {
		if err := accounts.CheckPassword(*in.Password); err != nil {
			return accounts.User{}, nil, "password: " + err.Error()
		}
		h, err := accounts.HashPassword(*in.Password)
		if err != nil {
			return accounts.User{}, nil, "password: " + err.Error()
		}
		spec.PasswordHash = h
	}
	if in.MaxValidity != nil {
		// The users file's own duration syntax (UserSpec.MaxValidity's).
		if err := spec.MaxValidity.UnmarshalText([]byte(*in.MaxValidity)); err != nil {
			return accounts.User{}, nil, "max_validity: " + err.Error()
		}
	}
	set(&spec.Enabled, in.Enabled)
	set(&spec.Group, in.Group)
	set(&spec.BindTypes, in.BindTypes)
	set(&spec.MaxBinds, in.MaxBinds)
	if p := in.MaxBindsPerType; p != nil {
		spec.MaxBindsPerType = [3]int{p.Transmitter, p.Receiver, p.Transceiver}
	}
	set(&spec.AllowIPs, in.AllowIPs)
	set(&spec.DefaultSource, in.DefaultSource)
	set(&spec.SourceAddrs, in.SourceAddrs)
	set(&spec.Receipts, in.Receipts)
	set(&spec.Throughput, in.Throughput)
	set(&spec.Burst, in.Burst)
	if in.Balance != nil && create {
		spec.Balance = string(*in.Balance)
	}
	set(&spec.Quota, in.Quota)
	set(&spec.MaxPriority, in.MaxPriority)
	set(&spec.MaxHeldPerUser, in.MaxHeldPerUser)
	set(&spec.Deny, in.Deny)
	set(&spec.APIKeyHash, in.APIKeyHash)
	set(&spec.CallbackSecret, in.CallbackSecret)

	groups := st.Groups()
	known := func(name string) bool {
		for _, g := range groups {
			if g.Name == name {
				return true
			}
		}
		return false
	}
	var c accounts.Check
	u := accounts.ParseUser(spec, known, &c)
	if err := c.Err(); err != nil {
		return accounts.User{}, nil, err.Error()
	}
	warns := make([]string, len(c.Warnings))
	for i, w := range c.Warnings {
		warns[i] = w.Error()
	}
	return u, warns, ""
}

// set copies a given input field onto the spec.
func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func userView(st *accounts.Store, u *accounts.User) User {
	v := User{
		SystemID: u.SystemID, Enabled: u.Enabled, Active: u.Active(), Group: u.Group, MaxBinds: u.MaxBinds,
		MaxBindsPerType: BindsPerType{u.MaxBindsPerType[0], u.MaxBindsPerType[1], u.MaxBindsPerType[2]},
		AllowIPs:        make([]string, len(u.AllowIPs)), DefaultSource: u.DefaultSource,
		SourceAddrs: append([]string{}, u.SourceAddrs...), Receipts: u.Receipts,
		Throughput: u.Limits.Throughput, Burst: u.Limits.Burst, Balance: u.Limits.Balance.String(),
		Quota: u.Limits.Quota, QuotaUsed: u.Limits.QuotaUsed, MaxValidity: formatDuration(u.Limits.MaxValidity),
		MaxPriority: 3, MaxHeldPerUser: u.MaxHeldPerUser, Binds: st.Binds(u.SystemID), BindTypes: []string{},
		Deny: append([]string{}, u.Deny.Names()...), APIKey: u.APIKeyHash != "", CallbackSecret: u.CallbackSecret != "",
	}
	for _, bt := range []accounts.BindType{accounts.BindTransmitter, accounts.BindReceiver, accounts.BindTransceiver} {
		if u.BindTypes&bt != 0 {
			v.BindTypes = append(v.BindTypes, bt.String())
		}
	}
	for i, p := range u.AllowIPs {
		v.AllowIPs[i] = p.String()
	}
	if p := u.Limits.MaxPriority; p != nil {
		v.MaxPriority = int(*p)
	}
	return v
}

// formatDuration writes "0" for none and a short form otherwise ("48h").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}
