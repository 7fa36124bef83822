package flow

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/smppd/smppd/codec"
)

// docTable returns the rows (cells trimmed) of the markdown table in file
// whose header line is header.
func docTable(t *testing.T, file, header string) [][]string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	i := slices.Index(lines, header)
	if i < 0 {
		t.Fatalf("%s: no table headed %q", file, header)
	}
	width := len(cells(header))
	var rows [][]string
	for _, l := range lines[i+2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		c := cells(l)
		if len(c) != width {
			t.Fatalf("%s: row %q has %d cells, want %d", file, l, len(c), width)
		}
		rows = append(rows, c)
	}
	if len(rows) == 0 {
		t.Fatalf("%s: table %q is empty", file, header)
	}
	return rows
}

func cells(line string) []string {
	parts := strings.Split(strings.Trim(line, "|"), "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

var (
	statusName = regexp.MustCompile(`ESME_R[A-Z_]+`)
	labelName  = regexp.MustCompile("`([a-z_]+)`")
)

// docStatuses reads the status names in a cell; "same" is the other cell's.
func docStatuses(t *testing.T, cell, same string) []string {
	t.Helper()
	if cell == "same" {
		cell = same
	}
	names := statusName.FindAllString(cell, -1)
	if len(names) == 0 {
		t.Fatalf("cell %q names no status", cell)
	}
	return names
}

// docLabels reads the refusals a cell names by label.
func docLabels(t *testing.T, cell string) []Refusal {
	t.Helper()
	var out []Refusal
	for _, m := range labelName.FindAllStringSubmatch(cell, -1) {
		r, ok := refusalNamed(m[1])
		if !ok {
			t.Fatalf("reason %q is not in refusalTable", m[1])
		}
		out = append(out, r)
	}
	return out
}

func names(sts []codec.Status) []string {
	out := make([]string, len(sts))
	for i, st := range sts {
		out[i] = st.String()
	}
	return out
}

// sameSet reports whether a and b hold the same names.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// OPERATIONS.md lists every reason once, with exactly its statuses in both
// modes and its description.
func TestRefusalDocOperations(t *testing.T) {
	rows := docTable(t, "../docs/OPERATIONS.md", "| reason | status | with `jasmin_compat_status` | cause |")
	seen := map[Refusal]bool{}
	for _, row := range rows {
		rs := docLabels(t, row[0])
		if len(rs) != 1 || seen[rs[0]] {
			t.Fatalf("OPERATIONS.md: row %q must name one reason not named before", row[0])
		}
		r := rs[0]
		seen[r] = true
		native := docStatuses(t, row[1], "")
		jasmin := docStatuses(t, row[2], row[1])
		if !sameSet(native, names(r.answers(false))) || !sameSet(jasmin, names(r.answers(true))) {
			t.Errorf("OPERATIONS.md %v: statuses %v / %v, code %v / %v", r, native, jasmin, r.answers(false), r.answers(true))
		}
		if got := strings.ReplaceAll(row[3], "`", ""); got != r.Description() {
			t.Errorf("OPERATIONS.md %v: cause %q, code %q", r, got, r.Description())
		}
	}
	for r := range numRefusals {
		if !seen[r] {
			t.Errorf("OPERATIONS.md: reason %v missing", r)
		}
	}
}

// CONFIG.md splits some reasons by cause (balance and quota, the two
// priority refusals, the three bad_message checks): each row's statuses
// must be its reason's, and together the rows must give every status of
// every reason.
func TestRefusalDocConfig(t *testing.T) {
	rows := docTable(t, "../docs/CONFIG.md", "| refusal | reason | smppd | with `jasmin_compat_status` | why smppd differs |")
	got := [2]map[Refusal][]string{{}, {}}
	for _, row := range rows {
		rs := docLabels(t, row[1])
		if len(rs) != 1 {
			t.Fatalf("CONFIG.md: row %q must name one reason", row[0])
		}
		r := rs[0]
		for mode, sts := range [2][]string{docStatuses(t, row[2], ""), docStatuses(t, row[3], row[2])} {
			code := names(r.answers(mode == 1))
			for _, st := range sts {
				if !slices.Contains(code, st) {
					t.Errorf("CONFIG.md %q (%v): %s, code answers %v (jasmin=%v)", row[0], r, st, code, mode == 1)
				}
			}
			got[mode][r] = append(got[mode][r], sts...)
		}
	}
	for r := range numRefusals {
		for mode := range got {
			if code := names(r.answers(mode == 1)); !sameSet(got[mode][r], code) {
				t.Errorf("CONFIG.md %v: rows give %v, code answers %v (jasmin=%v)", r, got[mode][r], code, mode == 1)
			}
		}
	}
}

// MESSAGE_FLOW.md's replace_sm checks: a row counted under reasons
// answers exactly their statuses (either mode); a row marked — is not
// counted, so the table has nothing to hold it to.
func TestRefusalDocMessageFlow(t *testing.T) {
	rows := docTable(t, "../docs/MESSAGE_FLOW.md", "| check | refusal | counted as (`reason`) |")
	counted := 0
	for _, row := range rows {
		rs := docLabels(t, row[2])
		if len(rs) == 0 {
			if row[2] != "—" {
				t.Fatalf("MESSAGE_FLOW.md: %q is neither reasons nor —", row[2])
			}
			continue
		}
		counted++
		var code []string
		for _, r := range rs {
			code = append(code, names(r.answers(false))...)
			code = append(code, names(r.answers(true))...)
		}
		if doc := docStatuses(t, row[1], ""); !sameSet(doc, code) {
			t.Errorf("MESSAGE_FLOW.md %q: %v, code answers %v", row[0], doc, code)
		}
	}
	if counted == 0 {
		t.Fatal("MESSAGE_FLOW.md: no counted replace_sm check")
	}
}
