package flow

import (
	"errors"
	"github.com/smppd/smppd/delivery"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/routing"
)

func moHub(t *testing.T, reassemble bool) *testHub {
	return newHub(t, hubSpec{
		routes: routing.Config{
			MT: []routing.MTRouteConfig{{Name: "all", Kind: "default", Connectors: []string{"a"}}},
			MO: []routing.MORouteConfig{
				{Name: "short", User: "bob", FilterConfig: routing.FilterConfig{DestPrefixes: []string{"5555"}}},
				{Name: "rest", User: "alice", FilterConfig: routing.FilterConfig{DestPrefixes: []string{"1"}}},
			},
		},
		dmod: func(o *delivery.Options) {
			o.ReassembleMO = reassemble
			o.ReassemblyTimeout = time.Minute
			o.Users = delivery.UsersFunc(func(id string) bool { return id == "alice" || id == "bob" || id == "carol" })
		},
	})
}

func TestMORouting(t *testing.T) {
	th := moHub(t, false)
	mo := &msg.Inbound{Connector: "a", SourceTON: 1, Source: []byte("4917"), Dest: []byte("55551"), ShortMessage: []byte("hey"),
		ESMClass: 0, DataCoding: 3}
	th.MO(mo)
	mo.Dest = []byte("1234")
	th.MO(mo)
	got := th.out.take()
	if len(got) != 2 || got[0].user != "bob" || got[1].user != "alice" {
		t.Fatalf("deliveries %+v", got)
	}
	p := decodeDeliver(t, got[0])
	if string(p.SourceAddr) != "4917" || p.SourceAddrTON != 1 || string(p.DestinationAddr) != "55551" ||
		string(p.ShortMessage) != "hey" || p.DataCoding != 3 {
		t.Fatalf("MO PDU %+v", p)
	}
	// No route, and a route or operator naming an unknown user.
	mo.Dest = []byte("999")
	th.MO(mo)
	if err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "mallory", Dest: []byte("1")}); !errors.Is(err, delivery.ErrUnknownUser) {
		t.Fatalf("unknown user: %v", err)
	}
	if err := th.Deliveries().InjectMO(&msg.Inbound{Dest: []byte("999")}); !errors.Is(err, delivery.ErrNoMORoute) {
		t.Fatalf("no route: %v", err)
	}
	if s := th.Stats(); s.MOUnroutable != 3 {
		t.Fatalf("unroutable %d", s.MOUnroutable)
	}
	// An operator's MO goes straight to the named user, whatever the routes say.
	if err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "carol", Source: []byte("1"), Dest: []byte("55551"), ShortMessage: []byte("op")}); err != nil {
		t.Fatal(err)
	}
	if got := th.out.take(); len(got) != 1 || got[0].user != "carol" {
		t.Fatalf("injected %+v", got)
	}
}

func TestMOPassThroughLongAndTLVs(t *testing.T) {
	th := moHub(t, false)
	var tl codec.TLVs
	tl.AddUint16(codec.TagSourcePort, 9200)
	long := strings.Repeat("z", 300)
	if err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "alice", Source: []byte("1"), Dest: []byte("2"),
		ShortMessage: []byte(long), TLVs: tl.Raw()}); err != nil {
		t.Fatal(err)
	}
	p := decodeDeliver(t, th.out.take()[0])
	if v, _ := p.TLVs.Get(codec.TagMessagePayload); len(p.ShortMessage) != 0 || string(v) != long {
		t.Fatal("a 300-octet MO did not move to message_payload")
	}
	if v, ok := p.TLVs.Uint16(codec.TagSourcePort); !ok || v != 9200 {
		t.Fatal("TLVs not passed through")
	}
	if err := th.Deliveries().InjectMO(&msg.Inbound{SystemID: "alice", Source: []byte(strings.Repeat("9", 30)), Dest: []byte("2")}); !errors.Is(err, delivery.ErrBadMO) {
		t.Fatalf("a source too long for deliver_sm: %v", err)
	}
}

// udhPart builds a UDH8 part.
func udhPart(ref, total, seq byte, text string) []byte {
	return append([]byte{5, 0, 3, ref, total, seq}, text...)
}

func TestMOReassemblyUDH(t *testing.T) {
	th := moHub(t, true)
	send := func(src string, seq byte, text string) {
		th.MO(&msg.Inbound{Connector: "a", Source: []byte(src), Dest: []byte("1234"), ESMClass: codec.ESMClassUDHI,
			ShortMessage: udhPart(7, 3, seq, text)})
	}
	a, b, c := strings.Repeat("a", 100), strings.Repeat("b", 100), strings.Repeat("c", 100)
	send("4917", 3, c)
	send("4918", 1, "other sender, same ref") // another source: another set
	send("4917", 1, a)
	send("4917", 1, a) // duplicate
	if len(th.out.take()) != 0 {
		t.Fatal("delivered before the last part")
	}
	send("4917", 2, b)
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	p := decodeDeliver(t, got[0])
	v, _ := p.TLVs.Get(codec.TagMessagePayload)
	if p.ESMClass&codec.ESMClassUDHI != 0 || len(p.ShortMessage) != 0 || string(v) != a+b+c {
		t.Fatalf("reassembled %+v", p)
	}
	// The incomplete set of the other sender expires, counted.
	th.clock.Add(2 * time.Minute)
	th.Deliveries().Step(th.clock.Now())
	if th.Stats().MOIncomplete != 1 {
		t.Fatal("incomplete MO not counted")
	}
}

func TestMOReassemblySARShort(t *testing.T) {
	th := moHub(t, true)
	for seq := byte(1); seq <= 2; seq++ {
		var tl codec.TLVs
		tl.AddUint16(codec.TagSarMsgRefNum, 513)
		tl.AddUint8(codec.TagSarTotalSegments, 2)
		tl.AddUint8(codec.TagSarSegmentSeqnum, seq)
		tl.AddUint16(codec.TagDestinationPort, 80)
		th.MO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), DataCoding: codec.DataCodingUCS2,
			ShortMessage: []byte{0, 'a' + seq - 1}, TLVs: tl.Raw()})
	}
	got := th.out.take()
	if len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
	p := decodeDeliver(t, got[0])
	if string(p.ShortMessage) != "\x00a\x00b" || p.DataCoding != codec.DataCodingUCS2 || p.TLVs.Has(codec.TagSarMsgRefNum) {
		t.Fatalf("reassembled %+v", p)
	}
	if v, ok := p.TLVs.Uint16(codec.TagDestinationPort); !ok || v != 80 {
		t.Fatal("other TLVs lost")
	}
}

func TestMOPartsPassThroughWithoutReassembly(t *testing.T) {
	th := moHub(t, false)
	for seq := byte(1); seq <= 2; seq++ {
		th.MO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), ESMClass: codec.ESMClassUDHI,
			ShortMessage: udhPart(1, 2, seq, "part")})
	}
	got := th.out.take()
	if len(got) != 2 {
		t.Fatalf("%d deliveries", len(got))
	}
	if p := decodeDeliver(t, got[1]); p.ESMClass != codec.ESMClassUDHI || string(p.ShortMessage) != string(udhPart(1, 2, 2, "part")) {
		t.Fatalf("part changed: %+v", p)
	}
}

func TestMOUDHWithPortsIsNotJoined(t *testing.T) {
	th := moHub(t, true)
	// UDH: concat 8-bit plus 16-bit ports: passed through as it is.
	udh := []byte{11, 0, 3, 1, 2, 1, 5, 4, 0x0b, 0x84, 0x23, 0xf0}
	th.MO(&msg.Inbound{Source: []byte("4917"), Dest: []byte("1234"), ESMClass: codec.ESMClassUDHI,
		ShortMessage: append(udh, "wap"...)})
	if got := th.out.take(); len(got) != 1 {
		t.Fatalf("%d deliveries", len(got))
	}
}
