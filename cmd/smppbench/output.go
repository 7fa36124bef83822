package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smppd/smppd/bench"
)

// progressLine rewrites one terminal line with the running totals and the
// rate over the last interval. update is called from the run's progress
// goroutine only.
type progressLine struct {
	w      io.Writer
	warmup time.Duration
	last   bench.Progress
	wrote  bool
}

func (p *progressLine) update(s bench.Progress) {
	dt := (s.Elapsed - p.last.Elapsed).Seconds()
	rate := 0.0
	if dt > 0 && s.Responses >= p.last.Responses {
		rate = float64(s.Responses-p.last.Responses) / dt
	}
	phase := ""
	if s.Warmup {
		phase = " (warm-up)"
	}
	fmt.Fprintf(p.w, "\r\033[K%6.1fs%s  bound %d  sent %s  resp %s  %s/s  errors %s  receipts %s",
		s.Elapsed.Seconds(), phase, s.Bound, group(s.Submitted), group(s.Responses),
		group(uint64(rate)), group(s.Errors), group(s.Receipts))
	p.last = s
	p.wrote = true
}

// clear erases the line before the summary.
func (p *progressLine) clear() {
	if p.wrote {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// writeSummary prints the human summary of res.
func writeSummary(w io.Writer, res *bench.Result, cfg *bench.Config) {
	pace := "full speed"
	if res.Rate > 0 {
		pace = "target " + group(uint64(res.Rate)) + "/s"
	}
	dlr := "no receipts"
	if res.Receipts {
		dlr = "receipts"
	}
	mix := res.Mix
	if res.Chars > 0 {
		mix += " of " + group(uint64(res.Chars)) + " characters"
	}
	fmt.Fprintf(w, "smppbench → %s  %s × %d sessions (%d bound), window %d, mix %s, %s, %s\n",
		res.Addr, res.Bind, res.Sessions, res.Bound, res.Window, mix, dlr, pace)
	warm := ""
	if cfg.Warmup > 0 {
		warm = " after " + cfg.Warmup.String() + " warm-up"
	}
	fmt.Fprintf(w, "measured       %.3f s%s (responses over the first %.3f s)\n", res.Elapsed, warm, res.RespElapsed)
	fmt.Fprintf(w, "submit_sm      %s sent  %s ok  %s throttled  %s errors  %s generic_nack  %s unanswered\n",
		group(res.Submitted), group(res.OK), group(res.Throttled), group(res.Errors), group(res.GenericNacks), group(res.Unanswered))
	fmt.Fprintf(w, "throughput     %s submit_sm/s\n", group(uint64(res.SubmitRate+0.5)))
	fmt.Fprintf(w, "submit→resp    %s\n", latency(res.SubmitResp))
	if res.Receipts {
		fmt.Fprintf(w, "receipts       %s matched of %s asked (%s missing, %s unmatched, %s before their answer)  %s/s  deliver_sm %s\n",
			group(res.ReceiptsOK), group(res.ReceiptsOK+res.ReceiptsLost), group(res.ReceiptsLost),
			group(res.ReceiptsOther), group(res.ReceiptsEarly), group(uint64(res.ReceiptRate+0.5)), group(res.DeliverSM))
		fmt.Fprintf(w, "submit→receipt %s\n", latency(res.SubmitReceipt))
	}
	if len(res.Statuses) > 0 {
		parts := make([]string, 0, len(res.Statuses))
		for k, v := range res.Statuses {
			parts = append(parts, k+" "+group(v))
		}
		fmt.Fprintf(w, "statuses       %s\n", strings.Join(sorted(parts), ", "))
	}
	for _, e := range res.SessionErrors {
		fmt.Fprintf(w, "error          %s\n", e)
	}
}

func latency(l bench.Latency) string {
	if l.Count == 0 {
		return "(none)"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (mean %s, n=%s)",
		us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max), us(l.Mean), group(uint64(l.Count)))
}

// us prints microseconds with a unit that keeps 3 significant figures.
func us(v float64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', 2, 64) + " s"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " µs"
}

// group writes n with thousands separators.
func group(n uint64) string {
	s := strconv.FormatUint(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func sorted(s []string) []string {
	slices.Sort(s)
	return s
}
