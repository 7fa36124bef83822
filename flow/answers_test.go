package flow

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

// answerLog records Options.Answers calls.
type answerLog struct {
	mu  sync.Mutex
	got []string
}

func (a *answerLog) Answer(id msg.ID, systemID string, conn int, status uint32, up []byte) {
	a.mu.Lock()
	a.got = append(a.got, fmt.Sprintf("%s %s %d %#x %q", id.AppendHex(nil), systemID, conn, status, up))
	a.mu.Unlock()
}

func (a *answerLog) list() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

// TestAnswers: Options.Answers hears ESME_ROK when a connector accepts a
// message and the refusal status when it fails, with the owner and the
// connector.
func TestAnswers(t *testing.T) {
	st := newMemStore()
	ok, refusing := newChanConn("ok", 64, 0), newChanConn("no", 64, 0)
	refusing.refuse = uint32(codec.StatusInvDstAdr)
	routes := routing.Config{MT: []routing.MTRouteConfig{
		{Name: "to-no", Kind: "static", Connectors: []string{"no"}, FilterConfig: routing.FilterConfig{DestPrefixes: []string{"2"}}},
		{Name: "all", Kind: "default", Connectors: []string{"ok"}},
	}}
	log := &answerLog{}
	e := startEnv(t, envSpec{routes: routes, msgs: st, holds: st, connectors: []connector.Connector{ok, refusing},
		mod: func(o *Options) { o.Answers = log }})
	e.addUser(t, "alice", userSpec{})
	c := e.bind(t, codec.BindTransmitterID, "alice")
	status, id1 := c.submit(sm("1", "111", "accepted"))
	wantStatus(t, status, codec.StatusOK)
	status, id2 := c.submit(sm("1", "222", "refused"))
	wantStatus(t, status, codec.StatusOK)
	eventually(t, "two answers", func() bool { return len(log.list()) == 2 })
	got := log.list()
	slices.Sort(got)
	want := []string{id1 + ` alice 0 0x0 ""`, id2 + ` alice 1 0xb ""`}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("answers %q, want %q", got, want)
	}
}
