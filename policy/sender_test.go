package policy

import (
	"testing"

	"github.com/smppd/smppd/codec"
)

const senderPolicy = `
[[sender]]
groups = ["retail"]
source_addrs = ["MyShop", "4917*"]
source_file = "retail-senders.txt"
default_source = "MyShop"
not_allowed = "replace"

[[sender]]
groups = ["banks"]
source_addrs = ["re:Bank[A-Z]"]
status = "ESME_RX_R_APPN"

[[sender]]
source_addrs = ["Info"]
default_source = "Info"
`

func TestSenderLevels(t *testing.T) {
	p := load(t, senderPolicy, map[string]string{"retail-senders.txt": "# more\nShop2\n"})
	for _, c := range []struct {
		name, group, src   string
		userSrc, defaulted bool
		st                 codec.Status
		want               string
	}{
		{"group allows", "retail", "MyShop", false, false, 0, "MyShop"},
		{"group prefix", "retail", "491701", false, false, 0, "491701"},
		{"group file", "retail", "Shop2", false, false, 0, "Shop2"},
		{"group replaces", "retail", "Other", false, false, 0, "MyShop"},
		{"group default for empty", "retail", "", false, false, 0, "MyShop"},
		{"group refuses with its status", "banks", "BankX1", false, false, codec.StatusXRAppn, ""},
		{"group regexp anchored", "banks", "BankX", false, false, 0, "BankX"},
		{"global for other groups", "wholesale", "Other", false, false, codec.StatusInvSrcAdr, ""},
		{"global default", "", "", false, false, 0, "Info"},
		{"user level wins", "banks", "Anything", true, false, 0, "Anything"},
		{"user default_source trusted", "banks", "UserDef", false, true, 0, "UserDef"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := mt(c.src, "491701234567")
			m.Group, m.UserSources, m.SrcDefaulted = c.group, c.userSrc, c.defaulted
			v := p.MT(m)
			if c.st != 0 {
				if v.Action != Refuse || v.Status != c.st || v.Stage != "sender" {
					t.Fatalf("%+v, want %s by sender", v, c.st)
				}
				return
			}
			if v.Action != Pass || string(m.Src) != c.want {
				t.Fatalf("%+v source %q, want pass with %q", v, m.Src, c.want)
			}
		})
	}
}

func TestSenderErrors(t *testing.T) {
	for _, src := range []string{
		"[[sender]]\nsource_addrs = [\"a*b\"]",
		"[[sender]]\nnot_allowed = \"replace\"",
		"[[sender]]\nsource_addrs = [\"A\"]\ndefault_source = \"B\"",
		"[[sender]]\n[[sender]]",
		"[[sender]]\nsource_file = \"nope.txt\"",
		"[[sender]]\nnot_allowed = \"drop\"",
	} {
		if _, err := loadErr(t, src, nil); err == nil {
			t.Errorf("%q loaded", src)
		}
	}
}
