//go:build !race

package policy

import "testing"

// The speed setting's MT path allocates nothing; a regexp rewrite makes
// exactly the one allocation of its match (FindSubmatchIndex).
func TestPolicyAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-entry list")
	}
	p := loadSpeed(t, false)
	var m Msg
	checkSpeedMsg(t, p, &m, "all")
	if n := testing.AllocsPerRun(1000, func() { speedMsg(&m); p.MT(&m) }); n != 0 {
		t.Errorf("MT allocates %.2f times", n)
	}
	mo := Msg{Dir: DirMO, Connector: "up", Src: []byte("01701234567"), Dst: []byte("4444")}
	if n := testing.AllocsPerRun(1000, func() { p.MO(&mo) }); n != 0 {
		t.Errorf("MO allocates %.2f times", n)
	}
	rw := loadSpeed(t, true)
	if n := testing.AllocsPerRun(1000, func() { speedMsg(&m); rw.MT(&m) }); n > 1 {
		t.Errorf("a regexp rewrite allocates %.2f times, want at most 1", n)
	}
}

func TestOtherStagesAllocs(t *testing.T) {
	p := load(t, senderPolicy+normPolicy+listPolicy+rulesPolicy, map[string]string{
		"retail-senders.txt": "Shop2\n", "blocked.txt": blockedFile})
	m := mt("Other", "0033612345678")
	src, dst := m.Src, m.Dst
	n := testing.AllocsPerRun(1000, func() {
		m.Src, m.Dst, m.SrcTON, m.DstTON, m.Changed, m.Tags = src, dst, 0, 0, 0, nil
		if v := p.MT(m); v.Action != Pass || string(m.Src) != "MyShop" || string(m.Dst) != "33612345678" {
			t.Fatalf("%+v %s %s", v, m.Src, m.Dst)
		}
	})
	if n != 0 {
		t.Errorf("sender replace, normalisation, lists and a prefix rewrite allocate %.2f times", n)
	}
}

// A regexp rewrite whose anchored literal prefix the address lacks is not
// run: no match is made, so nothing is allocated; a matching one makes
// its one allocation.
func TestRegexpRewritePrefilterAllocs(t *testing.T) {
	p := load(t, "[[rule]]\nname = \"uk\"\ndest_rewrite = [\"^4477(\\\\d+)$\", \"447${1}\"]\n", nil)
	m := mt("Shop", "491701234567")
	dst := m.Dst
	if n := testing.AllocsPerRun(1000, func() {
		m.Dst, m.Changed = dst, 0
		if v := p.MT(m); v.Action != Pass || m.Changed != 0 {
			t.Fatalf("%+v %s", v, m.Dst)
		}
	}); n != 0 {
		t.Errorf("a rewrite the prefix rules out allocates %.2f times", n)
	}
	uk := []byte("447712345678")
	if n := testing.AllocsPerRun(1000, func() {
		m.Dst = uk
		if p.MT(m); string(m.Dst) != "44712345678" {
			t.Fatalf("rewritten to %s", m.Dst)
		}
	}); n > 1 {
		t.Errorf("a matching rewrite allocates %.2f times, want at most 1", n)
	}
}

// Unanchored dest_regex and content_regex filters and an unanchored
// rewrite behind their required-literal prefilters allocate nothing for a
// message without the literals (BenchmarkPolicyMTUnanchored).
func TestUnanchoredRegexpAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 1,000,000-entry list")
	}
	var m Msg
	for _, rewrite := range []bool{false, true} {
		p := loadSpeedUnanchored(t, rewrite)
		if n := testing.AllocsPerRun(1000, func() { speedMsg(&m); p.MT(&m) }); n != 0 {
			t.Errorf("rewrite %v: MT allocates %.2f times", rewrite, n)
		}
	}
}
