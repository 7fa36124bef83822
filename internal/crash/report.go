package crash

import (
	"fmt"
	"io"
)

// WriteDetail prints one case: its figures, then its checks.
func WriteDetail(w io.Writer, r *Result) {
	fmt.Fprintf(w, "\n== %s (seed %d, %.1f s)\n", r.Case, r.Seed, r.Took.Seconds())
	if r.Skipped != "" {
		fmt.Fprintf(w, "   skipped: %s\n", r.Skipped)
		return
	}
	for _, f := range r.Figures {
		fmt.Fprintf(w, "   %-32s %s\n", f.Name+":", f.Value)
	}
	for _, c := range r.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "   %s %s: %s\n", mark, c.Name, c.Got)
	}
	if r.Err != nil {
		fmt.Fprintf(w, "   HARNESS ERROR: %v\n", r.Err)
	}
	if len(r.LogTail) > 0 {
		fmt.Fprintf(w, "   smppd's last log lines (all in %s):\n", r.LogPath)
		for _, l := range r.LogTail {
			fmt.Fprintf(w, "     %s\n", l)
		}
	}
}
