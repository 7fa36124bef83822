package hostile

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"
)

// logTailLen is how many of the last log lines are kept for a report.
const logTailLen = 40

// closeEvent is one "session closed" line of the server log.
type closeEvent struct {
	at       time.Time // when this side read it
	reason   string
	remote   string
	systemID string
}

// logWatch reads smppd's JSON log from a pipe to its end: it counts lines,
// keeps every session close, and the last lines. It always drains the
// pipe, so the child never blocks on a full one.
type logWatch struct {
	mu     sync.Mutex
	lines  int
	warns  int // warn, error, fatal, panic
	closes []closeEvent
	tail   []string
	done   chan struct{}
}

func newLogWatch(r io.Reader) *logWatch {
	w := &logWatch{done: make(chan struct{})}
	go w.read(r)
	return w
}

// logLine holds the fields of a JSON log line the cases look at.
type logLine struct {
	Level    string `json:"level"`
	Event    string `json:"event"`
	Reason   string `json:"reason"`
	Remote   string `json:"remote"`
	SystemID string `json:"system_id"`
}

func (w *logWatch) read(r io.Reader) {
	defer close(w.done)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			w.add(strings.TrimRight(line, "\n"))
		}
		if err != nil {
			return
		}
	}
}

func (w *logWatch) add(line string) {
	var l logLine
	parsed := json.Unmarshal([]byte(line), &l) == nil
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines++
	switch l.Level {
	case "warn", "error", "fatal", "panic":
		w.warns++
	}
	if !parsed && strings.Contains(line, "panic") {
		w.warns++ // a Go runtime panic is not JSON
	}
	if parsed && l.Event == "close" {
		w.closes = append(w.closes, closeEvent{at: time.Now(), reason: l.Reason, remote: l.Remote, systemID: l.SystemID})
	}
	if len(w.tail) == logTailLen {
		copy(w.tail, w.tail[1:])
		w.tail = w.tail[:logTailLen-1]
	}
	w.tail = append(w.tail, line)
}

// logMark is a position in the log: counts up to a moment.
type logMark struct {
	lines, warns, closes int
}

func (w *logWatch) mark() logMark {
	w.mu.Lock()
	defer w.mu.Unlock()
	return logMark{lines: w.lines, warns: w.warns, closes: len(w.closes)}
}

// since returns the lines, warnings and close reasons logged after m.
func (w *logWatch) since(m logMark) (lines, warns int, reasons map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	reasons = make(map[string]int)
	for _, c := range w.closes[m.closes:] {
		reasons[c.reason]++
	}
	return w.lines - m.lines, w.warns - m.warns, reasons
}

// waitClose waits until a close logged after m matches, or ctx ends.
func (w *logWatch) waitClose(ctx context.Context, m logMark, match func(closeEvent) bool) (closeEvent, bool) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		w.mu.Lock()
		for _, c := range w.closes[m.closes:] {
			if match(c) {
				w.mu.Unlock()
				return c, true
			}
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return closeEvent{}, false
		case <-t.C:
		}
	}
}

// lastLines returns a copy of the kept tail.
func (w *logWatch) lastLines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.tail...)
}
