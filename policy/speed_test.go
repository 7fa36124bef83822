package policy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// speedConfig is the speed setting: a 1,000,000-entry block list,
// 100 prefix and exact rules sharing one trie, 10 regexp filters a message
// is tried against, normalisation on. The message of speedMsg passes all
// of it (a rule at the end tags it).
func speedConfig(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "blocked.txt")
	if err := os.WriteFile(file, []byte(bigList(MaxListEntries-2)), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[[normalise]]\ncountry_code = \"49\"\n\n")
	fmt.Fprintf(&b, "[[list]]\nname = \"blocked\"\nkind = \"block\"\nfield = \"dest\"\nfile = %q\n\n", file)
	for i := range 100 {
		if i%2 == 0 {
			fmt.Fprintf(&b, "[[rule]]\nname = \"p%d\"\ndest_prefixes = [\"33%02d\"]\nreject = \"ESME_RINVDSTADR\"\n\n", i, i)
		} else {
			fmt.Fprintf(&b, "[[rule]]\nname = \"e%d\"\nsource_addrs = [\"Sender%d\"]\ndest_prefixes = [\"4917%02d\"]\nset_priority = 1\n\n", i, i, i)
		}
	}
	for i := range 10 {
		fmt.Fprintf(&b, "[[rule]]\nname = \"re%d\"\ndest_regex = \"^4477%d[0-9]+$\"\nset_tags = [\"uk\"]\n\n", i, i)
	}
	b.WriteString("[[rule]]\nname = \"tag-all\"\nset_tags = [\"all\"]\n")
	return b.String()
}

// speedMsg is an MT in national form: normalised, looked up in the list,
// tried against the trie and the 10 regexps, tagged.
func speedMsg(m *Msg) {
	m.Reset()
	m.Dir, m.User, m.Group = DirMT, "alice", "retail"
	m.Src, m.Dst = speedSrc, speedDst
	m.Content = speedText
}

var (
	speedSrc  = []byte("MyShop")
	speedDst  = []byte("01701234567")
	speedText = []byte("hello world")
)

func loadSpeed(t testing.TB, rewrite bool) *Policy {
	t.Helper()
	src := speedConfig(t)
	if rewrite {
		src = strings.Replace(src, "[[rule]]\nname = \"p0\"", "[[rule]]\nname = \"rw\"\ndest_regex = \"^49170\"\ndest_rewrite = [\"^49(170)(\\\\d+)$\", \"49${1}${2}\"]\n\n[[rule]]\nname = \"p0\"", 1)
	}
	p, err := loadErr(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func checkSpeedMsg(t testing.TB, p *Policy, m *Msg, tag string) {
	t.Helper()
	speedMsg(m)
	if v := p.MT(m); v.Action != Pass || string(m.Dst) != "491701234567" || len(m.Tags) != 1 || m.Tags[0] != tag {
		t.Fatalf("%+v %s %v", v, m.Dst, m.Tags)
	}
}

func BenchmarkPolicyMT(b *testing.B) {
	p := loadSpeed(b, false)
	var m Msg
	checkSpeedMsg(b, p, &m, "all")
	b.ReportAllocs()
	for b.Loop() {
		speedMsg(&m)
		p.MT(&m)
	}
}

// BenchmarkPolicyRegexpRewrite measures a regexp rewrite of the
// destination on top of the normalisation and the list (the first rule).
func BenchmarkPolicyRegexpRewrite(b *testing.B) {
	p := loadSpeed(b, true)
	var m Msg
	speedMsg(&m)
	if v := p.MT(&m); v.Action != Pass || v.Stage != "" || string(m.Dst) != "491701234567" {
		b.Fatalf("%+v %s", v, m.Dst)
	}
	b.ReportAllocs()
	for b.Loop() {
		speedMsg(&m)
		p.MT(&m)
	}
}

func BenchmarkListContains(b *testing.B) {
	p := load(b, "[[list]]\nname = \"big\"\nkind = \"block\"\nfield = \"dest\"\nfile = \"big.txt\"\n",
		map[string]string{"big.txt": bigList(MaxListEntries - 2)})
	l := p.list("big")
	keys := [][]byte{[]byte("491700000007"), []byte("491700000008"), []byte("4919123"), []byte("331234567")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.contains(keys[i&3])
		i++
	}
}

// loadSpeedUnanchored is the speed setting with its ten regexp rules not
// anchored: five dest_regex and five content_regex a message is tried
// against (the trie cannot rule them out), none matching, and, with
// rewrite, a first rule whose unanchored dest_rewrite finds nothing.
func loadSpeedUnanchored(t testing.TB, rewrite bool) *Policy {
	t.Helper()
	src := speedConfig(t)
	for i := range 10 {
		from := fmt.Sprintf("dest_regex = \"^4477%d[0-9]+$\"", i)
		to := fmt.Sprintf("dest_regex = \"4477%d[0-9]{6}\"", i)
		if i%2 == 1 {
			to = fmt.Sprintf("content_regex = \"(?i)casino%d\"", i)
		}
		src = strings.Replace(src, from, to, 1)
	}
	if rewrite {
		src = strings.Replace(src, "[[rule]]\nname = \"p0\"", "[[rule]]\nname = \"rw\"\nusers = [\"alice\"]\ndest_rewrite = [\"0049(\\\\d+)\", \"49${1}\"]\n\n[[rule]]\nname = \"p0\"", 1)
	}
	p, err := loadErr(t, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// BenchmarkPolicyMTUnanchored: the ten regexps are candidates for every
// message; their prefilters turn it away without running them.
func BenchmarkPolicyMTUnanchored(b *testing.B) {
	p := loadSpeedUnanchored(b, false)
	var m Msg
	checkSpeedMsg(b, p, &m, "all")
	b.ReportAllocs()
	for b.Loop() {
		speedMsg(&m)
		p.MT(&m)
	}
}

// BenchmarkPolicyRegexpRewriteUnanchored: an unanchored rewrite rule that
// applies to every message and whose regexp finds nothing in it.
func BenchmarkPolicyRegexpRewriteUnanchored(b *testing.B) {
	p := loadSpeedUnanchored(b, true)
	var m Msg
	speedMsg(&m)
	if v := p.MT(&m); v.Action != Pass || string(m.Dst) != "491701234567" {
		b.Fatalf("%+v %s", v, m.Dst)
	}
	b.ReportAllocs()
	for b.Loop() {
		speedMsg(&m)
		p.MT(&m)
	}
}
