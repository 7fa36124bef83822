package policy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/smppd/smppd/internal/atomicfile"
)

// Errors of the list edits.
var (
	ErrNoList     = errors.New("policy: no such list")
	ErrNoListFile = errors.New("policy: the list has no file to edit (entries in the policy file are edited there)")
)

// ListInfo describes one list for the admin API.
type ListInfo struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`  // block or allow
	Field   string `json:"field"` // dest or source
	File    string `json:"file,omitempty"`
	Entries int    `json:"entries"`
	Hits    uint64 `json:"hits"` // refusals since start, across reloads
}

// Lists describes p's lists in file order.
func (p *Policy) Lists() []ListInfo {
	if p == nil {
		return nil
	}
	out := make([]ListInfo, 0, len(p.lists))
	for _, l := range p.lists {
		kind, field := "allow", "source"
		if l.block {
			kind = "block"
		}
		if l.dest {
			field = "dest"
		}
		out = append(out, ListInfo{Name: l.name, Kind: kind, Field: field, File: l.file, Entries: l.entries, Hits: l.hits.Load()})
	}
	return out
}

// TestList reports whether number is on list name, as the list sees a
// message's (already normalised) number.
func (p *Policy) TestList(name string, number []byte) (bool, error) {
	l := p.list(name)
	if l == nil {
		return false, ErrNoList
	}
	return l.contains(number), nil
}

// CheckListEdit reports the error EditList would give name and entry
// before touching the file: an edit checked before it is shared with the
// other nodes of a cluster.
func (p *Policy) CheckListEdit(name, entry string) error {
	_, _, err := p.editable(name, entry)
	return err
}

// editable finds list name, with a file, and checks entry.
func (p *Policy) editable(name, entry string) (*list, []byte, error) {
	l := p.list(name)
	if l == nil {
		return nil, nil, ErrNoList
	}
	if l.file == "" {
		return nil, nil, ErrNoListFile
	}
	e := entryOfLine([]byte(entry))
	if _, _, _, err := parseEntry(e); err != nil || len(e) != len(entry) {
		if err == nil {
			err = errors.New("comments or spaces in an entry")
		}
		return nil, nil, fmt.Errorf("policy: entry %q: %w", entry, err)
	}
	return l, e, nil
}

// EditList adds entry to (add) or removes it from the file of list name,
// written atomically (a temporary file, fsync, rename, fsync of the folder)
// as the users file is. It reports whether the file changed; the caller
// then loads the policy again, which puts the edit in force. A removal
// takes out every line whose entry is entry (comments on it included).
func (p *Policy) EditList(name, entry string, add bool) (bool, error) {
	n, err := p.EditListBatch(name, []ListEntryEdit{{Entry: entry, Add: add}})
	return n > 0, err
}

// ListEntryEdit is one entry added to or removed from a list's file.
type ListEntryEdit struct {
	Entry string
	Add   bool
}

// EditListBatch applies edits to the file of list name as EditList does,
// reading and writing the file once for all of them (a cluster node's
// burst of edits from the others, a million-line file): the last edit of
// an entry wins. It returns how many entries changed the file; an edit that
// is refused (a bad entry, a full list) is left out and its error joined
// into err, the others are applied.
func (p *Policy) EditListBatch(name string, edits []ListEntryEdit) (int, error) {
	l := p.list(name)
	if l == nil {
		return 0, ErrNoList
	}
	if l.file == "" {
		return 0, ErrNoListFile
	}
	var errs []error
	want := make(map[string]bool, len(edits)) // entry -> add
	var order []string                        // entries to add, first edit first
	for _, ed := range edits {
		_, e, err := p.editable(name, ed.Entry)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if _, seen := want[string(e)]; !seen {
			order = append(order, string(e))
		}
		want[string(e)] = ed.Add
	}
	if len(want) == 0 {
		return 0, errors.Join(errs...)
	}
	src, err := os.ReadFile(l.file)
	if err != nil {
		return 0, err
	}
	var out bytes.Buffer
	out.Grow(len(src) + 32*len(want))
	present := make(map[string]bool, len(want))
	changed := 0
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 4096), 4096)
	for sc.Scan() {
		line := sc.Bytes()
		if add, ok := want[string(entryOfLine(line))]; ok {
			e := string(entryOfLine(line))
			if !add {
				if !present[e] {
					changed++ // counted once however many lines held it
				}
				present[e] = true
				continue
			}
			present[e] = true
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	entries := l.entries
	for _, e := range order {
		if !want[e] || present[e] {
			continue
		}
		if entries >= MaxListEntries {
			errs = append(errs, fmt.Errorf("policy: list %q holds %d entries already", name, MaxListEntries))
			continue
		}
		entries++
		changed++
		out.WriteString(e)
		out.WriteByte('\n')
	}
	if changed == 0 {
		return 0, errors.Join(errs...)
	}
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(l.file); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := atomicfile.Write(l.file, out.Bytes(), mode); err != nil {
		return 0, err
	}
	return changed, errors.Join(errs...)
}
