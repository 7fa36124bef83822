package policy

import (
	"errors"
	"os"
	"testing"
)

// An edit rewrites the list file atomically and takes effect at the next
// load; the policy in force is unchanged until then.
func TestEditList(t *testing.T) {
	p := load(t, listPolicy, map[string]string{"blocked.txt": blockedFile})
	if on, err := p.TestList("blocked-dest", []byte("491702222222")); err != nil || on {
		t.Fatalf("before: %v %v", on, err)
	}
	changed, err := p.EditList("blocked-dest", "491702222222", true)
	if err != nil || !changed {
		t.Fatalf("add: %v %v", changed, err)
	}
	if changed, err := p.EditList("blocked-dest", "491702222222", true); err != nil || changed {
		t.Fatalf("adding twice: %v %v", changed, err)
	}
	if on, _ := p.TestList("blocked-dest", []byte("491702222222")); on {
		t.Fatal("the edit took effect before a load")
	}
	q, err := Load(p.Path(), Options{Prev: p})
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := q.TestList("blocked-dest", []byte("491702222222")); !on {
		t.Fatal("added number not on the list after a load")
	}
	// Remove the prefix written with a comment; the other lines stay.
	if changed, err := q.EditList("blocked-dest", "4919*", false); err != nil || !changed {
		t.Fatalf("remove: %v %v", changed, err)
	}
	b, err := os.ReadFile(q.list("blocked-dest").file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "# premium-rate ranges and one number\n491701111111\n491702222222\n"; string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
	if changed, err := q.EditList("blocked-dest", "4919*", false); err != nil || changed {
		t.Fatalf("removing twice: %v %v", changed, err)
	}
	for _, c := range []struct {
		name, entry string
		want        error
	}{
		{"nope", "1", ErrNoList},
		{"alice-allowed", "1", ErrNoListFile},
	} {
		if _, err := q.EditList(c.name, c.entry, true); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	for _, bad := range []string{"", "49*1", "1 # x", "a b"} {
		if _, err := q.EditList("blocked-dest", bad, true); err == nil {
			t.Errorf("entry %q accepted", bad)
		}
	}
	if l := q.Lists(); len(l) != 3 || l[0].Name != "blocked-dest" || l[0].Kind != "block" || l[0].Field != "dest" || l[0].Entries != 4 {
		t.Fatalf("lists %+v", l)
	}
}

// A batch reads and writes the file once: the last edit of an entry wins,
// an entry on several lines is removed from all of them and counted once,
// a bad entry is refused and the others applied.
func TestEditListBatch(t *testing.T) {
	p := load(t, listPolicy, map[string]string{"blocked.txt": "4919*\n491701111111 # twice\n491701111111\n"})
	n, err := p.EditListBatch("blocked-dest", []ListEntryEdit{
		{Entry: "491702222222", Add: true},
		{Entry: "491703333333", Add: true},
		{Entry: "491701111111"},
		{Entry: "491702222222", Add: true},
		{Entry: "491703333333"}, // the last edit wins: not added
		{Entry: "4919*", Add: true},
		{Entry: "a b", Add: true},
	})
	if n != 2 || err == nil {
		t.Fatalf("changed %d, err %v; want 2 and the bad entry's error", n, err)
	}
	b, err := os.ReadFile(p.list("blocked-dest").file)
	if err != nil {
		t.Fatal(err)
	}
	if want := "4919*\n491702222222\n"; string(b) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", b, want)
	}
	if n, err := p.EditListBatch("blocked-dest", []ListEntryEdit{{Entry: "4919*", Add: true}, {Entry: "1"}}); n != 0 || err != nil {
		t.Fatalf("nothing to change: %d %v", n, err)
	}
}
