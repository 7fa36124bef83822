package policy

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smppd/smppd/codec"
)

const listPolicy = `
[[list]]
name = "blocked-dest"
kind = "block"
field = "dest"
file = "blocked.txt"
entries = ["+4915*"]

[[list]]
name = "alice-allowed"
kind = "allow"
field = "dest"
users = ["alice"]
entries = ["49*", "33612345678"]
status = "ESME_RX_P_APPN"

[[list]]
name = "spam-senders"
kind = "block"
field = "source"
entries = ["SpamCo", "4990*"]
mo = true
`

const blockedFile = `# premium-rate ranges and one number
4919*       # national premium
491701111111
`

func TestLists(t *testing.T) {
	p := load(t, listPolicy, map[string]string{"blocked.txt": blockedFile})
	for _, c := range []struct {
		user, src, dst string
		st             codec.Status
		stage          string
	}{
		{"bob", "MyShop", "491701111111", codec.StatusInvDstAdr, "list:blocked-dest"},
		{"bob", "MyShop", "+491701111111", codec.StatusInvDstAdr, "list:blocked-dest"},
		{"bob", "MyShop", "4917011111112", 0, ""}, // longer than the exact entry
		{"bob", "MyShop", "49190000", codec.StatusInvDstAdr, "list:blocked-dest"},
		{"bob", "MyShop", "4915123", codec.StatusInvDstAdr, "list:blocked-dest"},
		{"bob", "MyShop", "491", 0, ""},
		{"bob", "MyShop", "331234", 0, ""}, // alice's allow list is not bob's
		{"alice", "MyShop", "331234", codec.StatusXPAppn, "list:alice-allowed"},
		{"alice", "MyShop", "33612345678", 0, ""},
		{"alice", "MyShop", "491712345", 0, ""},
		{"bob", "SpamCo", "491712345", codec.StatusInvSrcAdr, "list:spam-senders"},
		{"bob", "Spamco", "491712345", 0, ""},
		{"bob", "49901234", "491712345", codec.StatusInvSrcAdr, "list:spam-senders"},
	} {
		m := mt(c.src, c.dst)
		m.User = c.user
		v := p.MT(m)
		if v.Status != c.st || v.Stage != c.stage || (c.st != 0) != (v.Action == Refuse) {
			t.Errorf("%s %s -> %s: %+v, want %s by %q", c.user, c.src, c.dst, v, c.st, c.stage)
		}
	}
	if n := p.list("blocked-dest").hits.Load(); n != 4 {
		t.Errorf("blocked-dest hits %d, want 4", n)
	}
	if n := p.list("alice-allowed").hits.Load(); n != 1 {
		t.Errorf("alice-allowed hits %d, want 1", n)
	}
	// MO: only the lists marked mo.
	m := &Msg{Dir: DirMO, Connector: "up", Src: []byte("SpamCo"), Dst: []byte("491701111111")}
	if v := p.MO(m); v.Action != Refuse || v.Stage != "list:spam-senders" {
		t.Errorf("MO from SpamCo: %+v", v)
	}
	m = &Msg{Dir: DirMO, Connector: "up", Src: []byte("4917"), Dst: []byte("491701111111")}
	if v := p.MO(m); v.Action != Pass {
		t.Errorf("MO to a number of a dest list without mo: %+v", v)
	}
}

func TestListHitsCarriedAcrossReload(t *testing.T) {
	p := load(t, listPolicy, map[string]string{"blocked.txt": blockedFile})
	p.MT(mt("a", "491701111111"))
	q, err := Load(p.Path(), Options{Prev: p})
	if err != nil {
		t.Fatal(err)
	}
	q.MT(mt("a", "491701111111"))
	if n := q.list("blocked-dest").hits.Load(); n != 2 {
		t.Fatalf("hits after a reload %d, want 2", n)
	}
}

func TestListErrors(t *testing.T) {
	for _, c := range []struct{ src, files, want string }{
		{`[[list]]
name = "x"
kind = "deny"
field = "dest"`, "", `kind: "deny"`},
		{`[[list]]
name = "x"
kind = "block"
field = "to"`, "", `field: "to"`},
		{`[[list]]
name = "x"
kind = "block"
field = "dest"
entries = ["49*1"]`, "", "entries[0]"},
		{`[[list]]
name = "x"
kind = "block"
field = "dest"
file = "f.txt"`, "49\n12a*\n", "f.txt:2"},
		{`[[list]]
name = "x"
kind = "block"
field = "dest"
status = "ESME_ROK"`, "", "status: ESME_ROK"},
		{`[[list]]
name = "x y"
kind = "block"
field = "dest"`, "", "name:"},
		{`[[list]]
name = "x"
kind = "block"
field = "dest"
file = "missing.txt"`, "", "missing.txt"},
		{`[[lists]]
name = "x"`, "", "unknown key lists"},
	} {
		files := map[string]string{}
		if c.files != "" {
			files["f.txt"] = c.files
		}
		_, err := loadErr(t, c.src, files)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to name %q", c.src, err, c.want)
		}
	}
}

func TestNumSet(t *testing.T) {
	s := newNumSet(0)
	for i := range uint64(10000) {
		if !s.add(numKey(i*7919, 12)) {
			t.Fatalf("add %d twice", i)
		}
	}
	if s.add(numKey(7919, 12)) {
		t.Fatal("a duplicate was added")
	}
	for i := range uint64(10000) {
		if !s.has(numKey(i*7919, 12)) || s.has(numKey(i*7919+1, 12)) && (i*7919+1)%7919 != 0 {
			t.Fatalf("lookup %d wrong", i)
		}
		if s.has(numKey(i*7919, 13)) {
			t.Fatalf("length ignored at %d", i)
		}
	}
}

// bigList is a list file of n exact numbers (every 7th of a range) and a
// few prefixes.
func bigList(n int) string {
	var b strings.Builder
	b.Grow(n * 14)
	for i := range n {
		fmt.Fprintf(&b, "4917%08d\n", i*7)
	}
	b.WriteString("4919*\n491520*\n")
	return b.String()
}

func TestMillionEntryList(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-entry list")
	}
	p := load(t, `[[list]]
name = "big"
kind = "block"
field = "dest"
file = "big.txt"
`, map[string]string{"big.txt": bigList(MaxListEntries - 2)})
	l := p.list("big")
	if l.entries != MaxListEntries {
		t.Fatalf("%d entries", l.entries)
	}
	for _, c := range []struct {
		n  string
		in bool
	}{{"491700000000", true}, {"491700000007", true}, {"491700000008", false}, {"491706999979", true}, {"491707000000", false},
		{"4919123", true}, {"49152012", true}, {"491521", false}} {
		if l.contains([]byte(c.n)) != c.in {
			t.Errorf("%s: contains %v", c.n, !c.in)
		}
	}
	// One more entry is refused.
	_, err := loadErr(t, `[[list]]
name = "big"
kind = "block"
field = "dest"
file = "big.txt"
entries = ["1"]
`, map[string]string{"big.txt": bigList(MaxListEntries - 2)})
	if err == nil || !strings.Contains(err.Error(), "more than 1000000 entries") {
		t.Fatalf("1,000,001 entries: %v", err)
	}
}
