// Package importrules holds the tests that keep the dependency direction of
// docs/ARCHITECTURE.md true: leaves import nothing of ours, the engine never
// imports accounts, routing, connectors or storage, nothing imports cmd,
// and no package outside cmd imports more than seven of ours.
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
	"codec":                   {"codec/internal/yymmdd", "codec/charset", "codec/concat"}, // its own subpackages only: ReadParts counts parts
	"codec/charset":           {},
	"codec/concat":            {},
	"codec/receipt":           {"codec/internal/yymmdd"},
	"codec/internal/yymmdd":   {},
	"timers":                  {},
	"msg":                     {},
	"config":                  {"accounts", "msg", "internal/units", "internal/atomicfile", "internal/netguard"}, // users and groups are checked by accounts' rules, shared with admin and the Store; [webhook]'s networks by the guard's
	"internal/importrules":    {},
	"internal/ring":           {},
	"internal/logthrottle":    {},
	"internal/netguard":       {},
	"internal/slab":           {},                   // chunks that never move, freed slots reused: the stores' optional record parts
	"internal/proxyproto":     {},                   // the PROXY protocol header: a leaf the listeners share
	"audit":                   {"internal/dirlock"}, // the audit log's files: knows nothing of what an entry says
	"internal/units":          {},
	"internal/bufpool":        {},
	"internal/smpptest":       {"codec", "codec/*"},
	"internal/testcert":       {},                        // certificates for tests
	"internal/freeport":       {},                        // loopback ports for tests' listeners, below the ephemeral range
	"accounts":                {"msg", "internal/units"}, // a user's written form shares the files' value types
	"routing":                 {},
	"storage":                 {"msg"},
	"storage/memory":          {"storage", "msg", "internal/slab"},
	"storage/storagetest":     {"storage", "msg"}, // the conformance suite every store runs
	"storage/disk/wal":        {},                 // the segment log: a leaf that knows nothing of records
	"storage/disk":            {"storage", "storage/disk/wal", "storage/memory", "msg", "internal/slab"},
	"cluster":                 {"internal/logthrottle"},                               // joins NATS JetStream: knows nothing of messages
	"storage/jetstream":       {"storage", "storage/disk", "storage/disk/wal", "msg"}, // the cluster's store: a JetStream journal over a local disk index
	"cdr":                     {"storage", "msg", "codec/charset", "internal/ring", "internal/logthrottle", "internal/dirlock"},
	"internal/dirlock":        {},
	"connector":               {"msg", "codec", "internal/ring", "internal/units"},
	"connector/connectortest": {"connector", "msg", "codec"},
	"connector/sim":           {"connector", "msg", "internal/ring"},
	"connector/smppout":       {"connector", "msg", "codec", "codec/*", "internal/ring", "timers", "internal/logthrottle"},
	"internal/smsctest":       {"codec", "codec/*", "msg"},
	"flow":                    {"engine", "codec", "msg", "accounts", "routing", "connector", "storage"}, // MT: never the delivery side; the traffic policy and the log throttle through interfaces cmd/smppd wires
	"policy":                  {"accounts", "routing", "codec", "codec/charset", "msg", "internal/units", "internal/atomicfile"},
	"internal/atomicfile":     {},                                                                                                                              // the traffic policy: users' source patterns, routes' filters
	"delivery":                {"engine", "codec", "codec/concat", "delivery/dlr", "msg", "storage", "internal/logthrottle"},                                   // MO and receipts: never the MT hub, routing or accounts
	"delivery/dlr":            {"codec", "codec/*", "msg", "storage"},                                                                                          // what a receipt says; delivery decides when and to whom
	"delivery/webhook":        {"codec", "codec/*", "msg", "storage", "internal/logthrottle", "internal/netguard"},                                             // receipts and MO to URLs: HTTP only, no session or route knowledge
	"admin":                   {"engine", "flow", "accounts", "routing", "connector", "storage", "msg", "codec", "codec/*", "metrics", "internal/logthrottle"}, // users through accounts' rules, not config
	"httpapi":                 {"flow", "accounts", "storage", "msg", "codec", "httpapi/content", "internal/logthrottle"},                                      // customers' HTTP: submits through the hub, never the engine or a connector
	"httpapi/content":         {"codec/charset", "codec/concat"},                                                                                               // Jasmin's content rules: codings, encoding, long content
	"metrics":                 {"engine", "flow", "delivery", "connector", "accounts", "storage", "msg"},                                                       // reads their snapshot types; only admin and cmd import it
	"bench/peers/raw":         {"bench/peers/raw/rawsmsc"},
	"bench/peers/raw/rawsmsc": {},
	"bench/schedtrace":        {}, // reads `go tool trace -d=parsed` output: nothing of ours
	"engine":                  {"codec", "codec/*", "timers", "msg", "internal/ring", "internal/bufpool", "internal/smpptest", "internal/logthrottle", "internal/proxyproto"},
	"bench":                   {"codec", "codec/*", "internal/ring"},
	"cmd/smppd":               {"*"},
	"cmd/smppbench":           {"bench", "codec", "codec/*"},
	"cmd/smppctl":             {}, // talks HTTP only
	"internal/hostile":        {"codec", "internal/smpptest", "internal/freeport"},
	"cmd/smpphostile":         {"internal/hostile"},
	"internal/crash":          {"codec", "codec/*", "internal/proctest"}, // kills a real smppd: talks SMPP and HTTP only
	"internal/clustertest":    {"codec", "codec/*", "internal/proctest"}, // three real smppd processes: SMPP, HTTP and NATS only
	"internal/proctest":       {"codec", "codec/*", "internal/freeport"}, // what crash and clustertest share: SMPP client, receivers, the child process, TOML rewriting
	"cmd/smppcrash":           {"internal/crash"},
	"internal/coretest":       {"engine", "flow", "delivery", "storage/memory", "msg", "codec", "internal/smpptest"}, // the core as cmd/smppd wires it, for tests
	"internal/admintest":      {"admin", "internal/coretest", "flow", "accounts", "routing", "connector", "connector/sim"},
}

// maxOurs is the most packages of ours a package outside cmd may import: a
// package that needs more mixes concerns that want a seam between them.
const maxOurs = 7

func TestImportRules(t *testing.T) {
	for pkg, deps := range ourImports(t) {
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %q has no entry in the import rules table", pkg)
			continue
		}
		for _, dep := range deps {
			if !permitted(rules, dep) {
				t.Errorf("%s imports %s, which the architecture does not allow", pkg, dep)
			}
		}
	}
}

// No package outside cmd imports more than maxOurs of ours (tests aside).
func TestImportCount(t *testing.T) {
	for pkg, deps := range ourImports(t) {
		if pkg == "cmd" || strings.HasPrefix(pkg, "cmd/") {
			continue
		}
		if n := len(deps); n > maxOurs {
			t.Errorf("%s imports %d packages of ours (%v), more than %d", pkg, n, deps, maxOurs)
		}
	}
}

// ourImports returns, for every package of the module, the packages of
// ours it imports (without the module prefix; test files' imports aside).
func ourImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		deps := []string{}
		for _, imp := range fields[1:] {
			if strings.HasPrefix(imp, module+"/") {
				deps = append(deps, strings.TrimPrefix(imp, module+"/"))
			}
		}
		pkgs[pkg] = deps
	}
	if len(pkgs) == 0 {
		t.Fatal("go list returned no packages")
	}
	return pkgs
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
