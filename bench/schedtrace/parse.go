package main

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// transition is one goroutine state change of `go tool trace -d=parsed`:
// "M=.. P=.. G=.. StateTransition Time=.. GoID=.. From->To ...", with the
// goroutine's own stack (TransitionStack) when the trace has one.
type transition struct {
	t        int64 // ns, trace clock
	g        int64 // the goroutine that changed state
	cur      int64 // the goroutine running on the M that emitted it
	from, to string
	stack    []string // TransitionStack's function names, innermost first
}

// parsed is what the report needs of a trace: every goroutine transition in
// order, and per goroutine every function seen on its own stacks (roles).
type parsed struct {
	tr    []transition
	funcs map[int64]map[string]bool
}

// parse reads `go tool trace -d=parsed` output. An event's "Stack=" is the
// stack of the goroutine running on the M (cur), its "TransitionStack=" the
// stack of the goroutine that changed state (g): each names the functions
// of its own goroutine only.
func parse(r io.Reader) (*parsed, error) {
	p := &parsed{funcs: map[int64]map[string]bool{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *transition
	section := "" // "T" in a TransitionStack, "S" in a Stack
	flush := func() {
		if cur != nil {
			p.tr = append(p.tr, *cur)
			cur = nil
		}
	}
	for sc.Scan() {
		ln := sc.Text()
		if strings.HasPrefix(ln, "M=") {
			flush()
			section = ""
			cur = parseEvent(ln)
			continue
		}
		if cur == nil {
			continue
		}
		switch {
		case strings.HasPrefix(ln, "TransitionStack="):
			section = "T"
		case strings.HasPrefix(ln, "Stack="):
			section = "S"
		case strings.HasPrefix(ln, "\t") && !strings.HasPrefix(ln, "\t\t"):
			fn, _, _ := strings.Cut(strings.TrimSpace(ln), " @")
			owner := cur.cur
			if section == "T" {
				cur.stack = append(cur.stack, fn)
				owner = cur.g
			}
			if owner >= 0 {
				if p.funcs[owner] == nil {
					p.funcs[owner] = map[string]bool{}
				}
				p.funcs[owner][fn] = true
			}
		}
	}
	flush()
	return p, sc.Err()
}

// parseEvent returns the goroutine transition on an event line, or nil.
func parseEvent(ln string) *transition {
	f := strings.Fields(ln)
	if len(f) < 7 || f[3] != "StateTransition" || !strings.HasPrefix(f[5], "GoID=") {
		return nil
	}
	from, to, ok := strings.Cut(f[6], "->")
	if !ok {
		return nil
	}
	return &transition{t: field(f[4], "Time="), g: field(f[5], "GoID="), cur: field(f[2], "G="), from: from, to: to}
}

func field(s, key string) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, key), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
