package policy

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

const normPolicy = `
[[normalise]]
groups = ["retail"]
country_code = "49"
alphanumeric = "allow"

[[normalise]]
users = ["strict"]
country_code = "49"
alphanumeric = "refuse"
dest_status = "ESME_RINVDSTTON"
source_status = "0x48"
min_digits = 10
max_digits = 13

[[normalise]]
connectors = ["up-plus"]
country_code = "49"
outbound = "plus"

[[normalise]]
connectors = ["up-national"]
country_code = "49"
outbound = "national"
`

func TestNormalise(t *testing.T) {
	p := load(t, normPolicy, nil)
	for _, c := range []struct {
		name           string
		user           string
		srcTON, dstTON uint8
		src, dst       string
		st             codec.Status
		wantSrc        string
		wantSrcTON     uint8
		wantDst        string
		wantDstTON     uint8
	}{
		{"national form", "alice", 0, 0, "01701234567", "01719876543", 0, "491701234567", 1, "491719876543", 1},
		{"international prefix", "alice", 0, 0, "00491701234567", "0033612345678", 0, "491701234567", 1, "33612345678", 1},
		{"plus", "alice", 0, 1, "+491701234567", "+33612345678", 0, "491701234567", 1, "33612345678", 1},
		{"TON national", "alice", 2, 2, "1701234567", "01719876543", 0, "491701234567", 1, "491719876543", 1},
		{"TON international but national digits", "alice", 1, 1, "491701234567", "01719876543", codec.StatusInvDstAdr, "", 0, "", 0},
		{"TON international with 00", "alice", 1, 1, "00491701234567", "491719876543", 0, "491701234567", 1, "491719876543", 1},
		{"already canonical", "alice", 1, 1, "491701234567", "491719876543", 0, "491701234567", 1, "491719876543", 1},
		{"short code source", "alice", 0, 0, "12345", "01719876543", 0, "12345", 3, "491719876543", 1},
		{"network specific kept", "alice", 3, 0, "8888", "01719876543", 0, "8888", 3, "491719876543", 1},
		{"alphanumeric", "alice", 5, 0, "MyShop", "01719876543", 0, "MyShop", 5, "491719876543", 1},
		{"alphanumeric found by its letters", "alice", 0, 0, "Shop-24", "01719876543", 0, "Shop-24", 5, "491719876543", 1},
		{"alphanumeric 11 septets", "alice", 5, 0, "ABCDEFGHIJK", "01719876543", 0, "ABCDEFGHIJK", 5, "491719876543", 1},
		{"alphanumeric 12 refused", "alice", 5, 0, "ABCDEFGHIJKL", "01719876543", codec.StatusInvSrcAdr, "", 0, "", 0},
		{"alphanumeric extension counts 2", "alice", 5, 0, "ABCDEFGHIJ[", "01719876543", codec.StatusInvSrcAdr, "", 0, "", 0},
		{"alphanumeric not GSM", "alice", 5, 0, "Shop`s", "01719876543", codec.StatusInvSrcAdr, "", 0, "", 0},
		{"letters in destination", "alice", 0, 0, "01701234567", "0171ABC", codec.StatusInvDstAdr, "", 0, "", 0},
		{"destination too short", "alice", 0, 0, "01701234567", "017123", codec.StatusInvDstAdr, "", 0, "", 0},
		{"destination too long", "alice", 0, 0, "01701234567", "+4917198765431234", codec.StatusInvDstAdr, "", 0, "", 0},
		{"strict refuses alphanumeric with its status", "strict", 5, 0, "MyShop", "01719876543", codec.StatusInvSrcTON, "", 0, "", 0},
		{"strict length with its status", "strict", 0, 0, "01701234567", "+3361234", codec.StatusInvDstTON, "", 0, "", 0},
		{"strict passes", "strict", 0, 0, "01701234567", "01719876543", 0, "491701234567", 1, "491719876543", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mt(c.src, c.dst)
			m.User = c.user
			if c.user != "alice" {
				m.Group = ""
			}
			m.SrcTON, m.DstTON = c.srcTON, c.dstTON
			v := p.MT(m)
			if c.st != 0 {
				if v.Action != Refuse || v.Status != c.st || v.Stage != "normalise" {
					t.Fatalf("verdict %+v, want refusal %s by normalise", v, c.st)
				}
				return
			}
			if v.Action != Pass {
				t.Fatalf("verdict %+v, want pass", v)
			}
			if string(m.Src) != c.wantSrc || m.SrcTON != c.wantSrcTON || string(m.Dst) != c.wantDst || m.DstTON != c.wantDstTON {
				t.Fatalf("got %s (TON %d) -> %s (TON %d), want %s (%d) -> %s (%d)", m.Src, m.SrcTON, m.Dst, m.DstTON,
					c.wantSrc, c.wantSrcTON, c.wantDst, c.wantDstTON)
			}
			if c.wantDstTON == 1 && m.DstNPI != 1 {
				t.Fatalf("destination NPI %d, want 1 (ISDN)", m.DstNPI)
			}
		})
	}
}

func TestNormaliseNoSelectorLeavesOthers(t *testing.T) {
	p := load(t, normPolicy, nil)
	m := mt("0170", "0171")
	m.User, m.Group = "bob", "wholesale"
	if v := p.MT(m); v.Action != Pass || string(m.Src) != "0170" || string(m.Dst) != "0171" {
		t.Fatalf("a user no [[normalise]] selects: %+v %s %s", v, m.Src, m.Dst)
	}
}

func TestOutbound(t *testing.T) {
	p := load(t, normPolicy, nil)
	for _, c := range []struct {
		conn, want string
		ton        uint8
	}{
		{"up-plus", "+491719876543", 1},
		{"up-national", "01719876543", 2},
		{"other", "491719876543", 1},
	} {
		m := mt("MyShop", "491719876543")
		m.SrcTON, m.DstTON = 5, 1
		p.Outbound(c.conn, m)
		if string(m.Dst) != c.want || m.DstTON != c.ton || string(m.Src) != "MyShop" {
			t.Errorf("%s: %s (TON %d), source %s; want %s (TON %d)", c.conn, m.Dst, m.DstTON, m.Src, c.want, c.ton)
		}
	}
}

func TestMONormalisedByConnector(t *testing.T) {
	p := load(t, normPolicy, nil)
	m := &Msg{Dir: DirMO, Connector: "up-national", Src: []byte("01701234567"), Dst: []byte("4444")}
	if v := p.MO(m); v.Action != Pass || string(m.Src) != "491701234567" || m.SrcTON != 1 || string(m.Dst) != "4444" {
		t.Fatalf("MO: %+v %s -> %s", v, m.Src, m.Dst)
	}
}
