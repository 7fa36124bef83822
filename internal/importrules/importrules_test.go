// Package importrules holds the test that keeps the dependency direction of
// docs/ARCHITECTURE.md true: leaves import nothing of ours, the engine never
// imports accounts, routing, connectors or storage, and nothing imports cmd.
package importrules

import (
	"bufio"
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/smppd/smppd"

// allowed lists, for each package of ours, the packages of ours it may
// import. A package missing from this table fails the test: add it here
// when the architecture says where it belongs.
var allowed = map[string][]string{
	"codec":                   {"codec/internal/yymmdd"},
	"codec/charset":           {},
	"codec/concat":            {},
	"codec/receipt":           {"codec/internal/yymmdd"},
	"codec/internal/yymmdd":   {},
	"timers":                  {},
	"msg":                     {},
	"config":                  {"accounts", "msg", "internal/units"}, // users and groups are checked by accounts' rules, shared with admin and the Store
	"internal/importrules":    {},
	"internal/ring":           {},
	"internal/logthrottle":    {},
	"internal/units":          {},
	"internal/bufpool":        {},
	"internal/smpptest":       {"codec", "codec/*"},
	"accounts":                {"msg", "internal/units"}, // a user's written form shares the files' value types
	"routing":                 {},
	"storage":                 {"msg"},
	"storage/memory":          {"storage", "msg"},
	"storage/storagetest":     {"storage", "msg"}, // the conformance suite every store runs
	"storage/disk/wal":        {},                 // the segment log: a leaf that knows nothing of records
	"storage/disk":            {"storage", "storage/disk/wal", "storage/memory", "msg"},
	"connector":               {"msg", "codec", "internal/ring", "internal/units"},
	"connector/connectortest": {"connector", "msg", "codec"},
	"connector/sim":           {"connector", "msg", "internal/ring"},
	"connector/smppout":       {"connector", "msg", "codec", "codec/*", "internal/ring", "timers", "internal/logthrottle"},
	"internal/smsctest":       {"codec", "codec/*", "msg"},
	"flow":                    {"engine", "codec", "codec/*", "msg", "accounts", "routing", "connector", "storage", "timers", "internal/ring", "internal/logthrottle"}, // MT: never the delivery side
	"delivery":                {"engine", "codec", "codec/concat", "delivery/dlr", "msg", "storage", "internal/logthrottle"},                                           // MO and receipts: never the MT hub, routing or accounts
	"delivery/dlr":            {"codec", "codec/*", "msg", "storage"},                                                                                                  // what a receipt says; delivery decides when and to whom
	"admin":                   {"engine", "flow", "accounts", "routing", "connector", "storage", "msg", "codec", "codec/*", "metrics", "internal/logthrottle"},         // users through accounts' rules, not config
	"metrics":                 {"engine", "flow", "delivery", "connector", "accounts", "storage", "msg"},                                                               // reads their snapshot types; only admin and cmd import it
	"bench/peers/raw":         {"bench/peers/raw/rawsmsc"},
	"bench/peers/raw/rawsmsc": {},
	"engine":                  {"codec", "codec/*", "timers", "msg", "internal/ring", "internal/bufpool", "internal/smpptest", "internal/logthrottle"},
	"bench":                   {"codec", "codec/*", "internal/ring"},
	"cmd/smppd":               {"*"},
	"cmd/smppbench":           {"bench", "codec", "codec/*"},
	"cmd/smppctl":             {}, // talks HTTP only
	"internal/hostile":        {"codec", "internal/smpptest"},
	"cmd/smpphostile":         {"internal/hostile"},
	"internal/crash":          {"codec", "codec/*"}, // kills a real smppd: talks SMPP and HTTP only
	"cmd/smppcrash":           {"internal/crash"},
	"internal/coretest":       {"engine", "flow", "delivery", "storage/memory", "msg", "codec", "internal/smpptest"}, // the core as cmd/smppd wires it, for tests
	"internal/admintest":      {"admin", "internal/coretest", "flow", "accounts", "routing", "connector", "connector/sim"},
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	seen := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %q has no entry in the import rules table", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			dep := strings.TrimPrefix(imp, module+"/")
			if !permitted(rules, dep) {
				t.Errorf("%s imports %s, which the architecture does not allow", pkg, dep)
			}
		}
	}
	if seen == 0 {
		t.Fatal("go list returned no packages")
	}
}

// permitted reports whether dep matches one of rules; "x/*" matches every
// package below x and "*" matches anything.
func permitted(rules []string, dep string) bool {
	for _, r := range rules {
		switch {
		case r == "*", r == dep:
			return true
		case strings.HasSuffix(r, "/*") && strings.HasPrefix(dep, strings.TrimSuffix(r, "*")):
			return true
		}
	}
	return false
}
