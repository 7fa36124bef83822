package smppout

import (
	"testing"
	"time"

	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/internal/smsctest"
	"github.com/smppd/smppd/msg"
)

// The documented defaults (docs/CONFIG.md, [connector.smpp]).
func TestDefaultSettings(t *testing.T) {
	sp := DefaultSettings()
	if sp.Port != 2775 || sp.TLS || sp.BindMode != "transceiver" || sp.Binds != 1 || sp.Window != 10 || sp.Throughput != 0 ||
		sp.EnquireLink.D() != 30*time.Second || sp.ResponseTimeout.D() != 30*time.Second ||
		sp.ReconnectMin.D() != time.Second || sp.ReconnectMax.D() != time.Minute || sp.RetryMin.D() != time.Second ||
		sp.RetryMax.D() != time.Minute || sp.DefaultValidity.D() != 48*time.Hour || !sp.SupportsPayload ||
		sp.SourceTON != nil || sp.SourceNPI != nil {
		t.Errorf("smpp defaults drifted: %+v", sp)
	}
	if _, ok := Kind.Settings().(*Settings); !ok || Kind.Name != "smpp" || !Kind.Required {
		t.Errorf("Kind %+v", Kind)
	}
}

// source_ton and source_npi replace the message's on the wire; a
// default_validity of 0 takes [delivery]'s.
func TestBuildSourceNumbering(t *testing.T) {
	type seen struct{ ton, npi byte }
	got := make(chan seen, 1)
	srv, err := smsctest.Start(smsctest.Options{Script: func(s *smsctest.Submit) smsctest.Action {
		got <- seen{s.SM.SourceAddrTON, s.SM.SourceAddrNPI}
		return smsctest.Action{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := DefaultSettings()
	s.Host, s.Port, s.SystemID = srv.Host(), srv.Port(), "up"
	ton, npi := 5, 0
	s.SourceTON, s.SourceNPI = &ton, &npi
	s.DefaultValidity = 0
	c, err := Kind.Build(&s, connector.Build{Name: "up", ID: 2, Queue: 8, IDMap: newMapIDs(), DefaultValidity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cc := c.(*Connector)
	if cc.c.opts.DefaultValidity != time.Hour {
		t.Errorf("default validity %v, want [delivery]'s 1h", cc.c.opts.DefaultValidity)
	}
	sink := newSink()
	if err := c.Start(sink); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop(t.Context()) })
	eventually(t, "bound", c.Up)
	m := newMsg(msg.ID(1), "4912345", "hi") // source TON 1, NPI 1
	if !c.Submit(m) {
		t.Fatal("Submit refused")
	}
	select {
	case s := <-got:
		if s.ton != 5 || s.npi != 0 {
			t.Fatalf("submit_sm source TON %d NPI %d, want 5 and 0", s.ton, s.npi)
		}
	case <-time.After(waitLimit):
		t.Fatal("no submit_sm")
	}
}
