package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestKeyLines(t *testing.T) {
	src := strings.Join([]string{
		`top = 1 # comment with key = 2`, // 1
		`text = """`,                     // 2
		`fake = "not a key"`,             // 3
		`"""`,                            // 4
		`lit = '''x`,                     // 5
		`y = 1'''`,                       // 6
		`arr = [`,                        // 7
		`  "a", # c`,                     // 8
		`  [1, 2],`,                      // 9
		`]`,                              // 10
		`[ "smpp-server" . tls ]`,        // 11
		`enabled = true`,                 // 12
		`"quoted key" = 'v'`,             // 13
		`inl = { a = 1, b.c = "}" }`,     // 14
		`[[user]]`,                       // 15
		`x = 1`,                          // 16
		`[[user]]`,                       // 17
		`x = "\" y = 3"`,                 // 18
		`[user.sub]`,                     // 19
		`z = 1`,                          // 20
		`aot = [{ k = 1 },`,              // 21
		`  { k = 2 }]`,                   // 22
	}, "\n")
	got := keyLines(src)
	want := map[string]int{
		"top": 1, "text": 2, "lit": 5, "arr": 7,
		"smpp-server.tls": 11, "smpp-server.tls.enabled": 12, "smpp-server.tls.quoted key": 13,
		"smpp-server.tls.inl": 14, "smpp-server.tls.inl.a": 14, "smpp-server.tls.inl.b.c": 14,
		"user[0]": 15, "user[0].x": 16, "user[1]": 17, "user[1].x": 18,
		"user[1].sub": 19, "user[1].sub.z": 20,
		"user[1].sub.aot": 21, "user[1].sub.aot[0]": 21, "user[1].sub.aot[0].k": 21,
		"user[1].sub.aot[1]": 22, "user[1].sub.aot[1].k": 22,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keyLines:\n got %v\nwant %v", got, want)
	}
}

func TestLineOfFallsBackToEnclosingKey(t *testing.T) {
	lines := map[string]int{"user[0]": 4, "user[0].allow_ips": 6}
	for path, want := range map[string]int{"user[0].allow_ips[3]": 6, "user[0].max_binds": 4, "auth.x": 0} {
		if got := lineOf(lines, path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
}

// FuzzParse: no input, however malformed, panics the loader, and every
// failure is reported as an error.
func FuzzParse(f *testing.F) {
	f.Add("[smpp-server]\nport = 2775\n")
	f.Add("[[user]]\nsystem_id = \"a\"\nallow_ips = [\"10.0.0.0/8\",\n 1]\n")
	f.Add("a = \"\"\"\nb = 1\"\"\"\n[x.'y'.\"z\"]\nq = { r = [1, {s = 2}] }\n")
	f.Add("[smpp-server]\nmax_pdu_len = \"4MiB\"\nshutdown_grace = 10\n")
	f.Add("[[group]]\nname = \"g\"\n[[user]]\nsystem_id = \"a\"\ngroup = \"g\"\nthroughput = nan\nbalance = \"1.5\"\nsource_addrs = [\"re:(\"]\n")
	f.Add("[[connector]]\nname = \"c\"\ntype = \"smpp\"\n[connector.smpp]\nhost = \"h\"\nsource_ton = 1\n[connector.sim]\noutcomes = { delivered = 1 }\n")
	f.Add("[[mt_route]]\nname = \"r\"\nkind = \"default\"\nconnectors = [\"sim\"]\nrate = 1e400\n[[mo_route]]\nuser = \"x\"\n[admin]\nenabled = true\nbind = \"::\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Contains(src, "users_file") || strings.Contains(src, "_file") {
			t.Skip("would read arbitrary files from the fuzzing machine")
		}
		c, err := Parse("fuzz.toml", src)
		if err == nil && c == nil {
			t.Fatal("nil config without an error")
		}
	})
}
