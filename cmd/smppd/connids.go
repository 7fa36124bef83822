package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/internal/atomicfile"
)

// connIDs is the table of connector routing ids, the id every stored
// record, upstream message id and dead letter names its connector by. A
// name keeps its id for good and a new name gets the next one, so adding,
// removing or moving a connector in the config never changes what a
// stored id means; a removed connector's id stays vacant (a connector of
// the same name added back gets it again, with its pending receipts).
//
// With the disk store the table is the file connector-ids in the data
// directory, written atomically before a new id is used. A directory
// without it was written by a release that used list positions as ids:
// the first start seeds the table with the config's connectors in order,
// which maps those records as that release did (start it once with the
// config it last ran with). With the memory store (nothing outlives the
// process) and in a cluster (every node must agree, and each seeds from
// the shared config) the table starts from the config's order each time.
type connIDs struct {
	path  string // "" = not persisted
	names []string
	ids   map[string]int
	// snap is names for readers on other goroutines (the CDR stream):
	// assign runs under the daemon's reload lock and publishes a copy.
	snap atomic.Pointer[[]string]
}

const (
	connIDsFile   = "connector-ids"
	connIDsHeader = "smppd connector ids v1"
	// maxConnIDs bounds the table (names ever configured on this data
	// directory): the hub indexes a slice by id.
	maxConnIDs = 65536
)

// openConnIDs loads the table for cfg (persisted when cfg's store is the
// disk store outside a cluster) and gives each configured connector
// without an id the next one.
func openConnIDs(cfg *config.Config) (*connIDs, error) {
	t := &connIDs{ids: map[string]int{}}
	if cfg.Storage.Disk() && !cfg.Cluster.Enabled {
		t.path = filepath.Join(cfg.Storage.Dir, connIDsFile)
		if err := t.load(); err != nil {
			return nil, err
		}
	}
	if _, err := t.assign(entryNames(cfg.Connectors)); err != nil {
		return nil, err
	}
	t.publish()
	return t, nil
}

// entryNames are the names of cs, in order.
func entryNames(cs []config.Connector) []string {
	out := make([]string, len(cs))
	for i := range cs {
		out[i] = cs[i].Name
	}
	return out
}

// load reads the file; a missing one leaves the table empty (seeded by
// the first assign, in config order).
func (t *connIDs) load() error {
	b, err := os.ReadFile(t.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("connector ids: %w", err)
	}
	names, err := parseConnIDs(b)
	if err != nil {
		return fmt.Errorf("connector ids %s: %w", t.path, err)
	}
	for _, n := range names {
		t.add(n)
	}
	return nil
}

// parseConnIDs reads the header line, then one name per line: line n
// (from 0) after the header is id n.
func parseConnIDs(b []byte) ([]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != connIDsHeader {
		return nil, fmt.Errorf("line 1: want %q (a newer release's format, or not smppd's file)", connIDsHeader)
	}
	var names []string
	seen := map[string]bool{}
	for line := 2; sc.Scan(); line++ {
		n := strings.TrimSpace(sc.Text())
		switch {
		case n == "" || strings.ContainsAny(n, " \t"):
			return nil, fmt.Errorf("line %d: %q is not a connector name", line, n)
		case seen[n]:
			return nil, fmt.Errorf("line %d: %q listed twice", line, n)
		case len(names) >= maxConnIDs:
			return nil, fmt.Errorf("more than %d connector ids", maxConnIDs)
		}
		seen[n] = true
		names = append(names, n)
	}
	return names, sc.Err()
}

func (t *connIDs) add(name string) {
	t.ids[name] = len(t.names)
	t.names = append(t.names, name)
}

// assign gives every name without an id the next one, in order, and
// saves the table before returning them as used; added reports whether
// any was new. On a save error the table is unchanged.
func (t *connIDs) assign(names []string) (added bool, err error) {
	var fresh []string
	for _, n := range names {
		if _, ok := t.ids[n]; !ok && !slices.Contains(fresh, n) {
			fresh = append(fresh, n)
		}
	}
	if len(fresh) == 0 && (t.path == "" || t.saved()) {
		return false, nil
	}
	if len(t.names)+len(fresh) > maxConnIDs {
		return false, fmt.Errorf("connector ids: more than %d connector names on this data directory", maxConnIDs)
	}
	next := append(append([]string(nil), t.names...), fresh...)
	if t.path != "" {
		if err := atomicfile.Write(t.path, formatConnIDs(next), 0o640); err != nil {
			return false, fmt.Errorf("connector ids: %w", err)
		}
	}
	for _, n := range fresh {
		t.add(n)
	}
	t.publish()
	return len(fresh) > 0, nil
}

// saved reports whether the file exists (a first start writes it even
// when no name is new: the seed must outlive a config change).
func (t *connIDs) saved() bool {
	_, err := os.Stat(t.path)
	return err == nil
}

func formatConnIDs(names []string) []byte {
	var b bytes.Buffer
	b.WriteString(connIDsHeader + "\n")
	for _, n := range names {
		b.WriteString(n + "\n")
	}
	return b.Bytes()
}

// id is name's routing id.
func (t *connIDs) id(name string) (int, bool) {
	id, ok := t.ids[name]
	return id, ok
}

// routing lists the connector names by id as routing.Config.Connectors
// wants them: "" for an id no connector of running has.
func (t *connIDs) routing(running []config.Connector) []string {
	out := make([]string, len(t.names))
	for i := range running {
		if id, ok := t.ids[running[i].Name]; ok {
			out[id] = running[i].Name
		}
	}
	return out
}

func (t *connIDs) publish() {
	snap := slices.Clone(t.names)
	t.snap.Store(&snap)
}

// name is id's connector name, "" when unknown (-1: never routed): the
// CDR stream's and the message lookup's ConnectorName. Any goroutine.
func (t *connIDs) name(id int32) string {
	p := t.snap.Load()
	if p == nil || id < 0 || int(id) >= len(*p) {
		return ""
	}
	return (*p)[id]
}

// len is the number of ids given.
func (t *connIDs) len() int { return len(t.names) }
