package receipt

import "time"

// key identifies a receipt key found by matchKey.
type key uint8

const (
	keyNone  key = iota // no key here
	keyOther            // an unknown "word:" key; its value is skipped
	keyID
	keySub
	keyDlvrd
	keySubmit
	keyDone
	keyStat
	keyErr
	keyText
	keySubmitWord // "submit", a key only when followed by "date"
	keyDoneWord   // "done", likewise
)

// maxNumDigits bounds sub/dlvrd/err so the int cannot overflow.
const maxNumDigits = 9

// ParseIn reads a receipt text and returns its fields, reading dates as
// wall clock in loc (nil means UTC). The accepted syntax is in the package
// doc. The only error is ErrNotReceipt; malformed values are reported in
// Receipt.Bad instead. It never panics, allocates nothing, and the returned
// byte fields are views into b.
func ParseIn(b []byte, loc *time.Location) (Receipt, error) {
	var r Receipt
	n := len(b)
	for i := 0; i < n; {
		if isSpace(b[i]) {
			i++
			continue
		}
		k, j := matchKey(b, i)
		if k == keyNone { // a stray word: skip it
			for i < n && !isSpace(b[i]) {
				i++
			}
			continue
		}
		if k == keyText {
			r.Has |= FieldText
			r.Text = trim(b[j:])
			break
		}
		v := j
		for v < n && isBlank(b[v]) {
			v++
		}
		e := v
		// A key right after the colon means this value is empty ("err: stat:").
		if nk, _ := matchKey(b, v); nk == keyNone {
			for e < n && !isSpace(b[e]) {
				e++
			}
		}
		r.set(k, b[v:e:e], loc)
		i = e
	}
	if len(r.ID) == 0 && len(r.StatRaw) == 0 {
		return Receipt{}, ErrNotReceipt
	}
	return r, nil
}

// set stores one value; the first occurrence of a key wins.
func (r *Receipt) set(k key, v []byte, loc *time.Location) {
	f := fieldOf(k)
	if f == 0 || r.Has&f != 0 {
		return
	}
	r.Has |= f
	ok := true
	switch k {
	case keyID:
		r.ID = v
		ok = len(v) > 0
	case keySub:
		r.Sub, ok = parseCount(v)
	case keyDlvrd:
		r.Dlvrd, ok = parseCount(v)
	case keyErr:
		r.Err = v
		r.ErrCode, ok = parseCount(v)
	case keyStat:
		r.StatRaw = v
		r.Stat = ParseStat(v)
		ok = len(v) > 0
	case keySubmit, keyDone:
		t, err := ParseDate(v, loc)
		ok = err == nil
		if k == keySubmit {
			r.SubmitDate = t
		} else {
			r.DoneDate = t
		}
	}
	if !ok {
		r.Bad |= f
	}
}

func fieldOf(k key) Field {
	switch k {
	case keyID:
		return FieldID
	case keySub:
		return FieldSub
	case keyDlvrd:
		return FieldDlvrd
	case keySubmit:
		return FieldSubmitDate
	case keyDone:
		return FieldDoneDate
	case keyStat:
		return FieldStat
	case keyErr:
		return FieldErr
	}
	return 0
}

// matchKey reports the key that starts at b[i] and the index just past its
// colon, or keyNone. A key is an identifier starting with a letter
// ([A-Za-z][A-Za-z0-9_]*) followed by ':'. Known keys may have blanks before
// the colon, and "submit"/"done" blanks then "date"; unknown ones must be
// followed by the colon directly, so a plain value such as "DELIVRD" is
// never taken for a key.
func matchKey(b []byte, i int) (key, int) {
	n := len(b)
	if i >= n || !isLetter(b[i]) {
		return keyNone, -1
	}
	j := i + 1
	for j < n && isIdent(b[j]) {
		j++
	}
	k := lookup(b[i:j])
	if k == keySubmitWord || k == keyDoneWord {
		m := j
		for m < n && isBlank(b[m]) {
			m++
		}
		if m > j && m+4 <= n && equalFold(b[m:m+4], "DATE") && (m+4 == n || !isIdent(b[m+4])) {
			j = m + 4
			if k == keySubmitWord {
				k = keySubmit
			} else {
				k = keyDone
			}
		} else {
			k = keyOther
		}
	}
	if k == keyNone {
		k = keyOther
	}
	if k != keyOther {
		for j < n && isBlank(b[j]) {
			j++
		}
	}
	if j < n && b[j] == ':' {
		return k, j + 1
	}
	return keyNone, -1
}

// lookup maps an identifier, in any ASCII case, to its key.
func lookup(w []byte) key {
	switch len(w) {
	case 2:
		if equalFold(w, "ID") {
			return keyID
		}
	case 3:
		if equalFold(w, "SUB") {
			return keySub
		}
		if equalFold(w, "ERR") {
			return keyErr
		}
	case 4:
		if equalFold(w, "STAT") {
			return keyStat
		}
		if equalFold(w, "TEXT") {
			return keyText
		}
		if equalFold(w, "DONE") {
			return keyDoneWord
		}
	case 5:
		if equalFold(w, "DLVRD") {
			return keyDlvrd
		}
	case 6:
		if equalFold(w, "SUBMIT") {
			return keySubmitWord
		}
	case 8:
		if equalFold(w, "DONEDATE") {
			return keyDone
		}
	case 9:
		if equalFold(w, "DONE_DATE") {
			return keyDone
		}
	case 10:
		if equalFold(w, "SUBMITDATE") {
			return keySubmit
		}
	case 11:
		if equalFold(w, "SUBMIT_DATE") {
			return keySubmit
		}
	}
	return keyNone
}

// parseCount reads 1..9 decimal digits.
func parseCount(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > maxNumDigits {
		return 0, false
	}
	x := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

// trim drops separators (see isSpace) at both ends.
func trim(b []byte) []byte {
	s, e := 0, len(b)
	for s < e && isSpace(b[s]) {
		s++
	}
	for e > s && isSpace(b[e-1]) {
		e--
	}
	return b[s:e:e]
}

// isSpace: separators between fields. NUL counts, for the stray NULs
// some SMSCs leave after short_message although sm_length excludes them.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f' || c == 0
}

// isBlank: spacing allowed inside a key or after its colon.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isLetter(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }

func isIdent(c byte) bool { return isLetter(c) || (c >= '0' && c <= '9') || c == '_' }
