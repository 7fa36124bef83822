package hostile

import (
	"fmt"
	"io"
	"strings"
)

// WriteDetail prints every figure and check of r.
func WriteDetail(w io.Writer, r *Result) {
	fmt.Fprintf(w, "== %s (attack %s)\n", r.Case, seconds(r.Took))
	if r.Err != nil {
		fmt.Fprintf(w, "  harness error: %v\n", r.Err)
	}
	fmt.Fprintf(w, "  RSS: before %s, peak %s, after %s (growth %s)\n", mib(r.RSSBefore), mib(r.RSSPeak), mib(r.RSSAfter), mib(r.Growth()))
	fmt.Fprintf(w, "  legit: %s\n", r.Legit)
	fmt.Fprintf(w, "  server log: %d lines (%d warn/error); sessions closed: %s\n", r.LogLines, r.LogWarns, r.closeReasons())
	for _, f := range r.Figures {
		fmt.Fprintf(w, "  %s: %s\n", f.Name, f.Value)
	}
	for _, c := range r.Checks {
		fmt.Fprintf(w, "  %s %s: %s%s\n", verdict(c.OK), c.Name, c.Got, testNote(c))
	}
	for _, l := range r.LogTail {
		fmt.Fprintf(w, "  | %s\n", l)
	}
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

// testNote says when the test's looser bound decides otherwise.
func testNote(c Check) string {
	if c.OK == c.Loose {
		return ""
	}
	return " (test bound: " + verdict(c.Loose) + ")"
}

// WriteTable prints a Markdown table with one row per case: memory, the
// legitimate client's latency, and the checks failed against the targets.
func WriteTable(w io.Writer, results []*Result) {
	fmt.Fprintln(w, "| case | RSS before → peak (growth) | RSS after | legit p50 / p99 / max | legit late or missing | failed against the targets |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range results {
		var failed []string
		for _, c := range r.Failed(false) {
			if c.Brief != "" {
				failed = append(failed, c.Brief)
			} else {
				failed = append(failed, c.Name+": "+c.Got)
			}
		}
		verdicts := "none"
		if len(failed) > 0 {
			verdicts = strings.Join(failed, "; ")
		}
		fmt.Fprintf(w, "| %s | %s → %s (%s) | %s | %s / %s / %s | %d of %d | %s |\n", r.Case,
			mib(r.RSSBefore), mib(r.RSSPeak), mib(r.Growth()), mib(r.RSSAfter),
			ms(r.Legit.P50), ms(r.Legit.P99), ms(r.Legit.Max), r.Legit.Late+r.Legit.Missed, r.Legit.Sent,
			strings.ReplaceAll(verdicts, "|", "/"))
	}
}
