package hostile

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// rssInterval is how often VmRSS is read; VmHWM at the end of a case
// catches a peak between two samples.
const rssInterval = 20 * time.Millisecond

// rssSampler reads a process's VmRSS periodically and keeps the peak since
// the last reset.
type rssSampler struct {
	pid  int
	mu   sync.Mutex
	peak int64
	hwm  bool // VmHWM was cleared at the last reset
	// over is called once, from the sampling goroutine, when a sample
	// passes limit (0 = no limit).
	limit int64
	over  func(rss int64)
	quit  chan struct{}
	done  chan struct{}
}

func newRSSSampler(pid int) *rssSampler {
	s := &rssSampler{pid: pid, quit: make(chan struct{}), done: make(chan struct{})}
	go s.loop()
	return s
}

func (s *rssSampler) loop() {
	defer close(s.done)
	t := time.NewTicker(rssInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.now()
		}
	}
}

// now reads VmRSS and folds it into the peak.
func (s *rssSampler) now() int64 {
	v := readStatus(s.pid, "VmRSS")
	s.mu.Lock()
	s.peak = max(s.peak, v)
	var over func(int64)
	if s.limit > 0 && v > s.limit {
		over, s.over, s.limit = s.over, nil, 0
	}
	s.mu.Unlock()
	if over != nil {
		over(v)
	}
	return v
}

// onOver arranges for f to be called once when VmRSS passes limit.
func (s *rssSampler) onOver(limit int64, f func(rss int64)) {
	s.mu.Lock()
	s.limit, s.over = limit, f
	s.mu.Unlock()
}

// reset starts a new peak from the current reading, which it returns. It
// also clears the kernel's VmHWM (writing 5 to /proc/PID/clear_refs), so
// that peakSince sees this attack's high-water mark, not start-up's.
func (s *rssSampler) reset() int64 {
	err := os.WriteFile("/proc/"+strconv.Itoa(s.pid)+"/clear_refs", []byte("5"), 0)
	v := readStatus(s.pid, "VmRSS")
	s.mu.Lock()
	s.peak, s.hwm = v, err == nil
	s.mu.Unlock()
	return v
}

// peakSince returns the highest sample since reset, or the process's
// VmHWM when higher and it could be cleared (it catches a peak between
// two samples).
func (s *rssSampler) peakSince() int64 {
	s.mu.Lock()
	p, hwm := s.peak, s.hwm
	s.mu.Unlock()
	if hwm {
		p = max(p, readStatus(s.pid, "VmHWM"))
	}
	return p
}

func (s *rssSampler) stop() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
}

// parseStatusKB returns the value of "field:   N kB" in a /proc status file.
func parseStatusKB(b []byte, field string) int64 {
	key := []byte(field + ":")
	for line := range bytes.SplitSeq(b, []byte{'\n'}) {
		if rest, ok := bytes.CutPrefix(line, key); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return 0
			}
			n, _ := strconv.ParseInt(string(f[0]), 10, 64)
			return n
		}
	}
	return 0
}
