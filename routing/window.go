package routing

import (
	"errors"
	"strings"
	"time"
)

const (
	daySecs    = 86400
	allDays    = 0x7f // bit i = time.Weekday(i)
	maxWindows = 16
)

// clockFilter is a compiled time_window + days + date_window in one zone.
type clockFilter struct {
	loc      *time.Location
	windows  []secWindow // none: any time of day
	days     uint8       // allDays when not restricted
	from, to int         // yyyymmdd inclusive; 0 when no date window
}

// secWindow is [start, end) in seconds of the local day; start > end wraps
// past midnight.
type secWindow struct{ start, end int }

// match returns FieldNone when now is inside the filter, else the field that
// excluded it. It allocates nothing: In, Date, Clock and Weekday work on the
// Time value.
func (c *clockFilter) match(now time.Time) Field {
	t := now.In(c.loc)
	if c.from != 0 {
		y, m, d := t.Date()
		v := y*10000 + int(m)*100 + d
		if v < c.from || v > c.to {
			return FieldDateWindow
		}
	}
	wd := uint(t.Weekday())
	if len(c.windows) == 0 {
		if c.days&(1<<wd) == 0 {
			return FieldDays
		}
		return FieldNone
	}
	h, mi, s := t.Clock()
	sec := h*3600 + mi*60 + s
	yesterday := (wd + 6) % 7
	inTime := false
	for _, w := range c.windows {
		open := uint(8) // the weekday the window opened on; 8 = not inside
		switch {
		case w.start < w.end:
			if sec >= w.start && sec < w.end {
				open = wd
			}
		case sec >= w.start:
			open = wd
		case sec < w.end:
			open = yesterday
		}
		if open == 8 {
			continue
		}
		inTime = true
		if c.days&(1<<open) != 0 {
			return FieldNone
		}
	}
	if inTime {
		return FieldDays
	}
	return FieldTimeWindow
}

// compileClock builds the clock filter of f, or nil when f has none. The
// returned Field names the key at fault.
func compileClock(f *FilterConfig) (*clockFilter, Field, error) {
	if f.TimeWindow == "" && f.Days == "" && f.DateWindow == "" {
		if f.TimeZone != "" {
			return nil, 0, errors.New("time_zone is set but there is no time_window, days or date_window to apply it to")
		}
		return nil, FieldNone, nil
	}
	c := &clockFilter{days: allDays}
	zone := f.TimeZone
	if zone == "" {
		zone = "Local"
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, 0, err
	}
	c.loc = loc
	if f.TimeWindow != "" {
		if c.windows, err = parseWindows(f.TimeWindow); err != nil {
			return nil, FieldTimeWindow, err
		}
	}
	if f.Days != "" {
		if c.days, err = parseDays(f.Days); err != nil {
			return nil, FieldDays, err
		}
	}
	if f.DateWindow != "" {
		if c.from, c.to, err = parseDateWindow(f.DateWindow); err != nil {
			return nil, FieldDateWindow, err
		}
	}
	return c, FieldNone, nil
}

// parseWindows parses "HH:MM[:SS]-HH:MM[:SS][, ...]"; ';' may separate the
// ends as in Jasmin's TimeIntervalFilter.
func parseWindows(s string) ([]secWindow, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxWindows {
		return nil, errors.New("more than 16 windows")
	}
	out := make([]secWindow, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		a, b, ok := strings.Cut(p, "-")
		if !ok {
			a, b, ok = strings.Cut(p, ";")
		}
		if !ok {
			return nil, errors.New("window " + quote(p) + " is not START-END, e.g. \"08:00-20:00\"")
		}
		start, err := parseClock(strings.TrimSpace(a), false)
		if err != nil {
			return nil, err
		}
		end, err := parseClock(strings.TrimSpace(b), true)
		if err != nil {
			return nil, err
		}
		if start == end {
			return nil, errors.New("window " + quote(p) + " is empty (start equals end)")
		}
		out = append(out, secWindow{start, end})
	}
	return out, nil
}

// parseClock parses HH:MM or HH:MM:SS; 24:00[:00] only when end is true.
func parseClock(s string, end bool) (int, error) {
	bad := errors.New("time " + quote(s) + " is not HH:MM or HH:MM:SS")
	if len(s) != 5 && len(s) != 8 {
		return 0, bad
	}
	var v [3]int
	for i := 0; i*3 < len(s); i++ {
		d := s[i*3 : i*3+2]
		if d[0] < '0' || d[0] > '9' || d[1] < '0' || d[1] > '9' || (i*3+2 < len(s) && s[i*3+2] != ':') {
			return 0, bad
		}
		v[i] = int(d[0]-'0')*10 + int(d[1]-'0')
	}
	if v[0] == 24 && v[1] == 0 && v[2] == 0 {
		if !end {
			return 0, errors.New("24:00 is only allowed as the end of a window")
		}
		return daySecs, nil
	}
	if v[0] > 23 || v[1] > 59 || v[2] > 59 {
		return 0, bad
	}
	return v[0]*3600 + v[1]*60 + v[2], nil
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func parseDay(s string) (int, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range dayNames {
		if s == n {
			return i, true
		}
	}
	return 0, false
}

// parseDays parses "mon-fri", "sat,sun", "fri-mon" (ranges wrap past Sunday).
func parseDays(s string) (uint8, error) {
	var mask uint8
	for _, p := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(p, "-")
		from, ok1 := parseDay(a)
		to, ok2 := from, true
		if isRange {
			to, ok2 = parseDay(b)
		}
		if !ok1 || !ok2 {
			return 0, errors.New("days entry " + quote(strings.TrimSpace(p)) + " is not a day (mon..sun) or a range of days such as mon-fri")
		}
		for d := from; ; d = (d + 1) % 7 {
			mask |= 1 << d
			if d == to {
				break
			}
		}
	}
	return mask, nil
}

// parseDateWindow parses "YYYY-MM-DD", "YYYY-MM-DD/YYYY-MM-DD" or Jasmin's
// "YYYY-MM-DD;YYYY-MM-DD" into inclusive yyyymmdd bounds.
func parseDateWindow(s string) (int, int, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		a, b, ok = strings.Cut(s, ";")
	}
	if !ok {
		b = a
	}
	from, err := parseDate(strings.TrimSpace(a))
	if err != nil {
		return 0, 0, err
	}
	to, err := parseDate(strings.TrimSpace(b))
	if err != nil {
		return 0, 0, err
	}
	if from > to {
		return 0, 0, errors.New("date window " + quote(s) + " ends before it starts")
	}
	return from, to, nil
}

func parseDate(s string) (int, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, errors.New("date " + quote(s) + " is not YYYY-MM-DD")
	}
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d, nil
}
