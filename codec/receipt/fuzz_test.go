package receipt

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzParse: Parse never panics and fails only with ErrNotReceipt. When it
// succeeds, Append (12-digit dates, so nothing is lost) and Parse again give
// back every field, with the normalisations Append documents: absent fields
// come back at their zero values, StatNone/StatOther as StatUnknown, the
// text as its first 20 characters made safe. Appending the second result
// reproduces the same bytes (Append∘Parse is a fixpoint).
func FuzzParse(f *testing.F) {
	for _, s := range []string{benchCanonical, benchMessy, "id:1 stat:FAILED err:null", "text:only", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r1, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrNotReceipt) {
				t.Fatalf("Parse(%q): unexpected error %v", in, err)
			}
			return
		}
		checkInvariants(t, in, &r1)

		fm := Format{Seconds: true}
		b2 := fm.Append(nil, &r1)
		r2, err := Parse(b2)
		if err != nil {
			t.Fatalf("Parse(Append(%q)) = %q: %v", in, b2, err)
		}
		wantStat := r1.Stat
		if _, ok := wantStat.MessageState(); !ok {
			wantStat = StatUnknown
		}
		wantBad := Field(0)
		if len(r1.ID) == 0 {
			wantBad = FieldID
		}
		switch {
		case !bytes.Equal(r2.ID, r1.ID), r2.Sub != r1.Sub, r2.Dlvrd != r1.Dlvrd, r2.ErrCode != r1.ErrCode,
			!r2.SubmitDate.Equal(r1.SubmitDate), !r2.DoneDate.Equal(r1.DoneDate), r2.Stat != wantStat,
			!bytes.Equal(r2.Text, appendText(nil, r1.Text)), r2.Has != allFields, r2.Bad != wantBad:
			t.Fatalf("round trip of %q via %q:\n r1 %+v\n r2 %+v", in, b2, r1, r2)
		}
		if b3 := fm.Append(nil, &r2); !bytes.Equal(b3, b2) {
			t.Fatalf("not a fixpoint: %q then %q", b2, b3)
		}

		// The canonical 10-digit form loses only the seconds.
		r3, err := Parse(Append(nil, &r1))
		if err != nil || !r3.SubmitDate.Equal(r1.SubmitDate.Truncate(time.Minute)) ||
			!r3.DoneDate.Equal(r1.DoneDate.Truncate(time.Minute)) {
			t.Fatalf("canonical round trip of %q: %+v, %v", in, r3, err)
		}
	})
}

// checkInvariants: views lie inside the input, tokens hold no separators,
// numeric fields are in range, and Bad is a subset of Has.
func checkInvariants(t *testing.T, in []byte, r *Receipt) {
	t.Helper()
	for name, v := range map[string][]byte{"ID": r.ID, "StatRaw": r.StatRaw, "Err": r.Err} {
		if bytes.ContainsFunc(v, func(c rune) bool { return c < 0x80 && isSpace(byte(c)) }) {
			t.Fatalf("%s %q contains a separator (input %q)", name, v, in)
		}
		if len(v) > 0 && !bytes.Contains(in, v) {
			t.Fatalf("%s %q is not from the input %q", name, v, in)
		}
	}
	if len(r.Text) > 0 && (isSpace(r.Text[0]) || isSpace(r.Text[len(r.Text)-1])) {
		t.Fatalf("Text %q not trimmed (input %q)", r.Text, in)
	}
	if r.Bad&^r.Has != 0 {
		t.Fatalf("Bad %#x not within Has %#x", r.Bad, r.Has)
	}
	if r.Sub < 0 || r.Dlvrd < 0 || r.ErrCode < 0 {
		t.Fatalf("negative count in %+v", r)
	}
}
