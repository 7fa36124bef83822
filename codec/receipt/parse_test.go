package receipt

import (
	"errors"
	"testing"
	"time"
)

// want describes the expected Parse result; dates are "2006-01-02 15:04:05"
// in UTC, "" for the zero time.
type want struct {
	id, statRaw, err, text string
	sub, dlvrd, errCode    int
	submit, done           string
	stat                   Stat
	has, bad               Field
}

const (
	allFields = FieldID | FieldSub | FieldDlvrd | FieldSubmitDate | FieldDoneDate | FieldStat | FieldErr | FieldText
	noText    = allFields &^ FieldText
)

// The receipts below are written for this package from the format of
// SMPP 3.4 Appendix B and the carrier variants seen in the wild (lower-case
// text:, 12-digit dates, hex or decimal ids, odd err widths and stat words).
func TestParseTable(t *testing.T) {
	f := func(name, in string, w want) {
		t.Helper()
		r, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("%s: Parse(%q): unexpected error %v", name, in, err)
			return
		}
		checkReceipt(t, name, &r, w)
	}

	f("canonical lower text",
		"id:1234567890 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:Hello world",
		want{id: "1234567890", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "Hello world", has: allFields})
	f("appendix B Title Text",
		"id:0000012345 sub:001 dlvrd:000 submit date:2501020304 done date:2501020405 stat:UNDELIV err:001 Text:Your code is 4411",
		want{id: "0000012345", sub: 1, submit: "2025-01-02 03:04:00", done: "2025-01-02 04:05:00",
			stat: StatUndeliverable, statRaw: "UNDELIV", err: "001", errCode: 1, text: "Your code is 4411", has: allFields})
	f("text with colons",
		"id:900 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:Meet at 10:30: room B id:7",
		want{id: "900", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "Meet at 10:30: room B id:7", has: allFields})
	f("no text field",
		"id:77 sub:001 dlvrd:001 submit date:2412312359 done date:2501010000 stat:DELIVRD err:000",
		want{id: "77", sub: 1, dlvrd: 1, submit: "2024-12-31 23:59:00", done: "2025-01-01 00:00:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", has: noText})
	f("no err field",
		"id:5 sub:001 dlvrd:000 submit date:2506301215 done date:2507011215 stat:EXPIRED text:Promo",
		want{id: "5", sub: 1, submit: "2025-06-30 12:15:00", done: "2025-07-01 12:15:00",
			stat: StatExpired, statRaw: "EXPIRED", text: "Promo", has: allFields &^ FieldErr})
	f("jasmin uuid, no sub dlvrd text",
		"id:8f14e45f-ceea-467f-a0e6-3f0bd4a9c1b2 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000",
		want{id: "8f14e45f-ceea-467f-a0e6-3f0bd4a9c1b2", submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000",
			has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat | FieldErr})
	f("jasmin submit_sm_resp failure err 99",
		"id:c0ffee00-0000-4000-8000-000000000001 submit date:2506301215 done date:2506301215 stat:UNDELIV err:99",
		want{id: "c0ffee00-0000-4000-8000-000000000001", submit: "2025-06-30 12:15:00", done: "2025-06-30 12:15:00",
			stat: StatUndeliverable, statRaw: "UNDELIV", err: "99", errCode: 99,
			has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat | FieldErr})
	f("12-digit dates",
		"id:AB12CD34 sub:001 dlvrd:001 submit date:250630121530 done date:250630121602 stat:DELIVRD err:000 text:",
		want{id: "AB12CD34", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:30", done: "2025-06-30 12:16:02",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", has: allFields})
	f("hex id 8 digits",
		"id:33E95179 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:ok",
		want{id: "33E95179", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "ok", has: allFields})
	f("hex id 32 digits lower",
		"id:9b2f1c0e7a6d4e3f8a1b2c3d4e5f6071 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000",
		want{id: "9b2f1c0e7a6d4e3f8a1b2c3d4e5f6071", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", has: noText})
	f("decimal id with leading zeros",
		"id:0000000042 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:x",
		want{id: "0000000042", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "x", has: allFields})
	f("upper-case keys",
		"ID:42 SUB:001 DLVRD:001 SUBMIT DATE:2506301215 DONE DATE:2506301216 STAT:DELIVRD ERR:000 TEXT:HI THERE",
		want{id: "42", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "HI THERE", has: allFields})
	f("mixed-case keys, double space in date key",
		"Id:42 Sub:001 Dlvrd:001 Submit  Date:2506301215 Done\tDate:2506301216 Stat:DELIVRD Err:000",
		want{id: "42", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", has: noText})
	f("underscore date keys, lower stat",
		"id:42 submit_date:2506301215 done_date:2506301216 stat:delivrd err:0",
		want{id: "42", submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "delivrd", err: "0",
			has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat | FieldErr})
	f("joined date keys",
		"id:42 submitdate:2506301215 donedate:2506301216 stat:DELIVRD",
		want{id: "42", submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat})
	f("extra unknown fields",
		"id:42 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 mccmnc:310260 price:0.0075 network_error_code:000 text:Hi",
		want{id: "42", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "Hi", has: allFields})
	f("extra spaces everywhere",
		"  id:  42   sub: 001  dlvrd:001 submit  date: 2506301215 done date :2506301216 stat: DELIVRD err: 000 text:  spaced out  ",
		want{id: "42", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "spaced out", has: allFields})
	f("field order varies",
		"stat:DELIVRD id:55 err:000 done date:2506301216 submit date:2506301215 dlvrd:001 sub:001",
		want{id: "55", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", has: noText})
	f("long form DELIVERED",
		"id:9 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVERED err:000",
		want{id: "9", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVERED", err: "000", has: noText})
	f("long form UNDELIVERABLE lower",
		"id:9 stat:undeliverable err:034",
		want{id: "9", stat: StatUndeliverable, statRaw: "undeliverable", err: "034", errCode: 34,
			has: FieldID | FieldStat | FieldErr})
	f("ENROUTE intermediate",
		"id:9 sub:001 dlvrd:000 submit date:2506301215 done date:2506301215 stat:ENROUTE err:000",
		want{id: "9", sub: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:15:00",
			stat: StatEnroute, statRaw: "ENROUTE", err: "000", has: noText})
	f("ACCEPTD",
		"id:9 sub:001 dlvrd:000 submit date:2506301215 done date:2506301215 stat:ACCEPTD err:000",
		want{id: "9", sub: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:15:00",
			stat: StatAccepted, statRaw: "ACCEPTD", err: "000", has: noText})
	f("REJECTD, later stat ignored",
		"id:9 stat:REJECTD stat:DELETED",
		want{id: "9", stat: StatRejected, statRaw: "REJECTD", has: FieldID | FieldStat})
	f("non-standard FAILED",
		"id:9 sub:001 dlvrd:000 submit date:2506301215 done date:2506301216 stat:FAILED err:002",
		want{id: "9", sub: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatOther, statRaw: "FAILED", err: "002", errCode: 2, has: noText})
	f("err:null",
		"id:9 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:null text:x",
		want{id: "9", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "null", text: "x", has: allFields, bad: FieldErr})
	f("err with 4 digits",
		"id:9 stat:UNDELIV err:0012",
		want{id: "9", stat: StatUndeliverable, statRaw: "UNDELIV", err: "0012", errCode: 12, has: FieldID | FieldStat | FieldErr})
	f("empty err before text",
		"id:9 stat:DELIVRD err: text:x",
		want{id: "9", stat: StatDelivered, statRaw: "DELIVRD", text: "x", err: "",
			has: FieldID | FieldStat | FieldErr | FieldText, bad: FieldErr})
	f("trailing NULs and CRLF",
		"id:9 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:bye\r\n\x00\x00",
		want{id: "9", sub: 1, dlvrd: 1, submit: "2025-06-30 12:15:00", done: "2025-06-30 12:16:00",
			stat: StatDelivered, statRaw: "DELIVRD", err: "000", text: "bye", has: allFields})
	f("one field per line",
		"id:9\r\nsub:001\r\ndlvrd:001\nstat:DELIVRD\n",
		want{id: "9", sub: 1, dlvrd: 1, stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldSub | FieldDlvrd | FieldStat})
	f("stray leading word",
		"DLR id:77 sub:1 dlvrd:1 stat:DELIVRD",
		want{id: "77", sub: 1, dlvrd: 1, stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldSub | FieldDlvrd | FieldStat})
	f("stat only",
		"sub:001 dlvrd:001 stat:DELIVRD",
		want{sub: 1, dlvrd: 1, stat: StatDelivered, statRaw: "DELIVRD", has: FieldSub | FieldDlvrd | FieldStat})
	f("id only",
		"id:123",
		want{id: "123", has: FieldID})
	f("bad dates and counts",
		"id:9 sub:one dlvrd:0000000001 submit date:2513011200 done date:25063012 stat:DELIVRD",
		want{id: "9", stat: StatDelivered, statRaw: "DELIVRD",
			has: FieldID | FieldSub | FieldDlvrd | FieldSubmitDate | FieldDoneDate | FieldStat,
			bad: FieldSub | FieldDlvrd | FieldSubmitDate | FieldDoneDate})
	f("leap day valid, 29 Feb 2023 not",
		"id:9 submit date:2402291200 done date:2302291200 stat:DELIVRD",
		want{id: "9", submit: "2024-02-29 12:00:00", stat: StatDelivered, statRaw: "DELIVRD",
			has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat, bad: FieldDoneDate})
	f("all-zero date means not set, year pivot 1999",
		"id:9 submit date:0000000000 done date:9912312359 stat:DELIVRD",
		want{id: "9", done: "1999-12-31 23:59:00", stat: StatDelivered, statRaw: "DELIVRD",
			has: FieldID | FieldSubmitDate | FieldDoneDate | FieldStat})
	f("empty id with stat",
		"id: sub:001 stat:DELIVRD",
		want{sub: 1, stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldSub | FieldStat, bad: FieldID})
	f("first occurrence wins",
		"id:1 id:2 stat:DELIVRD stat:UNDELIV",
		want{id: "1", stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldStat})
	f("id containing a colon",
		"id:12:ab stat:DELIVRD",
		want{id: "12:ab", stat: StatDelivered, statRaw: "DELIVRD", has: FieldID | FieldStat})
}

func TestParseNotReceipt(t *testing.T) {
	for _, in := range []string{
		"",
		"   \x00\r\n",
		"Hello, how are you? See you at 10:30",
		"id: stat:",
		"sub:001 dlvrd:001 err:000 text:no id and no stat",
		"text:a receipt id:1 stat:DELIVRD after text is only text",
		"xid:5 substat:DELIVRD",
		"\xff\xfe:id:stat",
	} {
		r, err := Parse([]byte(in))
		if !errors.Is(err, ErrNotReceipt) {
			t.Errorf("Parse(%q) = %+v, %v; want ErrNotReceipt", in, r, err)
		}
	}
}

func TestParseInLocation(t *testing.T) {
	loc := time.FixedZone("UTC+3", 3*3600)
	r, err := ParseIn([]byte("id:1 submit date:2506301215 stat:DELIVRD"), loc)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 6, 30, 9, 15, 0, 0, time.UTC); !r.SubmitDate.Equal(want) {
		t.Errorf("SubmitDate = %v, want %v", r.SubmitDate, want)
	}
	if r.SubmitDate.Location() != loc {
		t.Errorf("location = %v, want %v", r.SubmitDate.Location(), loc)
	}
}

// TestParseViews checks the byte fields point into the input (no copies)
// and are capped so appending to one cannot overwrite the input.
func TestParseViews(t *testing.T) {
	in := []byte("id:42 stat:DELIVRD err:000 text:abc")
	r, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{"ID": r.ID, "StatRaw": r.StatRaw, "Err": r.Err, "Text": r.Text} {
		if len(v) == 0 {
			t.Fatalf("%s empty", name)
		}
		if cap(v) != len(v) {
			t.Errorf("%s: cap %d != len %d", name, cap(v), len(v))
		}
		inside := false
		for i := range in {
			if &in[i] == &v[0] {
				inside = true
			}
		}
		if !inside {
			t.Errorf("%s is not a view into the input", name)
		}
	}
}

func checkReceipt(t *testing.T, name string, r *Receipt, w want) {
	t.Helper()
	str := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %q, want %q", name, field, got, want)
		}
	}
	num := func(field string, got, want int) {
		t.Helper()
		if got != want {
			t.Errorf("%s: %s = %d, want %d", name, field, got, want)
		}
	}
	date := func(field string, got time.Time, want string) {
		t.Helper()
		g := ""
		if !got.IsZero() {
			g = got.UTC().Format(time.DateTime)
		}
		if g != want {
			t.Errorf("%s: %s = %q, want %q", name, field, g, want)
		}
	}
	str("ID", string(r.ID), w.id)
	str("StatRaw", string(r.StatRaw), w.statRaw)
	str("Err", string(r.Err), w.err)
	str("Text", string(r.Text), w.text)
	num("Sub", r.Sub, w.sub)
	num("Dlvrd", r.Dlvrd, w.dlvrd)
	num("ErrCode", r.ErrCode, w.errCode)
	date("SubmitDate", r.SubmitDate, w.submit)
	date("DoneDate", r.DoneDate, w.done)
	if r.Stat != w.stat {
		t.Errorf("%s: Stat = %v, want %v", name, r.Stat, w.stat)
	}
	if r.Has != w.has {
		t.Errorf("%s: Has = %#x, want %#x", name, r.Has, w.has)
	}
	if r.Bad != w.bad {
		t.Errorf("%s: Bad = %#x, want %#x", name, r.Bad, w.bad)
	}
}
