package flow

import (
	"net/netip"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
)

// A bind through the hub's Authenticator carries the accounts store's
// *accounts.Bind, which HandleSubmit reads the user from.
func TestAuthenticatorBindsAccountsUsers(t *testing.T) {
	users := newAccounts(t)
	th := newHub(t, hubSpec{mod: func(o *Options) { o.Accounts = users }})
	hash, err := testHash()
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Upsert(accounts.User{SystemID: "alice", PasswordHash: hash, Enabled: true,
		BindTypes: accounts.BindTransmitter}); err != nil {
		t.Fatal(err)
	}
	auth := th.Authenticator()
	req := engine.BindRequest{SystemID: "alice", Password: testPassword, Type: engine.BindTransmitter,
		Remote: netip.MustParseAddrPort("127.0.0.1:2775")}
	p, st := auth.Authenticate(req)
	wantStatus(t, st, codec.StatusOK)
	b, ok := p.(*accounts.Bind)
	if !ok || b.SystemID() != "alice" || users.Binds("alice") != 1 {
		t.Fatalf("principal %T %v, %d binds", p, p, users.Binds("alice"))
	}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	th.HandleSubmit(&engine.SubmitRequest{Command: codec.SubmitSMID, SystemID: "alice", SubmitSM: sm("1", "491", "x"),
		Principal: p}, res)
	wantStatus(t, res.Status, codec.StatusOK)
	p.Release()

	gate, ok := auth.(engine.BindGate)
	if !ok {
		t.Fatal("the Authenticator is no BindGate: slowed binds would wait on auth workers")
	}
	if d, st := gate.GateBind(&req); st != codec.StatusOK || d != 0 {
		t.Fatalf("gate: %v %v", d, st)
	}
	req.Password = "wrong"
	if p, st := auth.Authenticate(req); p != nil || st != codec.StatusInvPaswd {
		t.Fatalf("wrong password: %v %v", p, st)
	}
	req.Password, req.Type = testPassword, engine.BindReceiver
	if p, st := auth.Authenticate(req); p != nil || st != codec.StatusBindFail {
		t.Fatalf("bind type not allowed: %v %v", p, st)
	}
}

// The same ESME_RINVPASWD for an unknown id and a wrong password (SMPP 3.4
// §5.1.3: a prober learns nothing); every policy refusal is ESME_RBINDFAIL.
func TestBindStatusMapping(t *testing.T) {
	cases := map[error]codec.Status{
		accounts.ErrBadCredentials:     codec.StatusInvPaswd,
		accounts.ErrDisabled:           codec.StatusBindFail,
		accounts.ErrBindTypeNotAllowed: codec.StatusBindFail,
		accounts.ErrTooManyBinds:       codec.StatusBindFail,
		accounts.ErrIPNotAllowed:       codec.StatusBindFail,
		accounts.ErrThrottled:          codec.StatusBindFail,
	}
	for err, want := range cases {
		if got := bindStatus(err); got != want {
			t.Errorf("%v → %v, want %v", err, got, want)
		}
	}
}
