package receipt

import (
	"regexp"
	"testing"
	"time"
)

const (
	benchCanonical = "id:1234567890 sub:001 dlvrd:001 submit date:2506301215 done date:2506301216 stat:DELIVRD err:000 text:Hello world, see you"
	benchMessy     = "  ID: 33E95179  Sub:1 DLVRD:001 submit_date: 250630121530 Done  Date:250630121602 mccmnc:310260 Stat:delivered Err:0012 Text: Meet at 10:30 \r\n\x00"
)

var (
	sinkReceipt Receipt
	sinkBytes   []byte
	sinkBool    bool
)

func benchParse(b *testing.B, in string) {
	buf := []byte(in)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		sinkReceipt, _ = Parse(buf)
	}
}

func BenchmarkParseCanonical(b *testing.B) { benchParse(b, benchCanonical) }
func BenchmarkParseMessy(b *testing.B)     { benchParse(b, benchMessy) }

// BenchmarkParseRegexpBaseline is the obvious alternative: the per-field
// regular expressions Jasmin uses, for comparison only.
func BenchmarkParseRegexpBaseline(b *testing.B) {
	res := []*regexp.Regexp{
		regexp.MustCompile(`id:([\dA-Za-z-_]+)`), regexp.MustCompile(`sub:(\d{1,3})`),
		regexp.MustCompile(`dlvrd:(\d{1,3})`), regexp.MustCompile(`submit date:(\d+)`),
		regexp.MustCompile(`done date:(\d+)`), regexp.MustCompile(`stat:(\w{7})`),
		regexp.MustCompile(`err:(\w{1,3})`), regexp.MustCompile(`[tT]ext:(.*)`),
	}
	buf := []byte(benchCanonical)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		for _, re := range res {
			sinkBytes = re.Find(buf)
		}
	}
}

func BenchmarkAppend(b *testing.B) {
	r := Receipt{ID: []byte("1234567890"), Sub: 1, Dlvrd: 1,
		SubmitDate: time.Date(2025, 6, 30, 12, 15, 0, 0, time.UTC),
		DoneDate:   time.Date(2025, 6, 30, 12, 16, 0, 0, time.UTC),
		Stat:       StatDelivered, Text: []byte("Hello world, see you at ten")}
	dst := make([]byte, 0, 256)
	dst = Append(dst, &r)
	b.ReportAllocs()
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		dst = Append(dst[:0], &r)
	}
	sinkBytes = dst
}

// BenchmarkAppendCached is BenchmarkAppend as a server writes receipts:
// the dates through a DateCache, most receipts in the second before.
func BenchmarkAppendCached(b *testing.B) {
	r := Receipt{ID: []byte("1234567890"), Sub: 1, Dlvrd: 1,
		SubmitDate: time.Date(2025, 6, 30, 12, 15, 0, 0, time.UTC),
		DoneDate:   time.Date(2025, 6, 30, 12, 16, 0, 0, time.UTC),
		Stat:       StatDelivered, Text: []byte("Hello world, see you at ten")}
	var c DateCache
	dst := Format{}.AppendCached(make([]byte, 0, 256), &r, &c)
	b.ReportAllocs()
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		dst = Format{}.AppendCached(dst[:0], &r, &c)
	}
	sinkBytes = dst
}

func BenchmarkIDEqual(b *testing.B) {
	x, y := []byte("0x33E95179"), []byte("870928761")
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = IDEqual(x, y)
	}
}

func BenchmarkNormalizeIDDecimal(b *testing.B) {
	id := []byte("0000870928761")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst = NormalizeID(dst[:0], id, IDDecimal)
	}
	sinkBytes = dst
}
