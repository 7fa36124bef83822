package routing

import (
	"testing"
	"time"
)

func TestTimeWindows(t *testing.T) {
	// 2026-03-06 is a Friday, 2026-03-07 a Saturday.
	cases := []struct {
		name string
		f    FilterConfig
		now  time.Time
		want Field
	}{
		{"inside", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 8, 0), FieldNone},
		{"end exclusive", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 20, 0), FieldTimeWindow},
		{"seconds", FilterConfig{TimeWindow: "08:00:30-08:01:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 8, 0).Add(45 * time.Second), FieldNone},
		{"seconds before", FilterConfig{TimeWindow: "08:00:30-08:01:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 8, 0).Add(29 * time.Second), FieldTimeWindow},
		{"jasmin separator", FilterConfig{TimeWindow: "08:00:00;20:00:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 19, 59), FieldNone},
		{"to 24:00", FilterConfig{TimeWindow: "22:00-24:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 23, 59), FieldNone},
		{"two windows second", FilterConfig{TimeWindow: "08:00-12:00, 14:00-18:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 15, 0), FieldNone},
		{"two windows gap", FilterConfig{TimeWindow: "08:00-12:00, 14:00-18:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 13, 0), FieldTimeWindow},
		{"midnight wrap late", FilterConfig{TimeWindow: "22:00-06:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 23, 30), FieldNone},
		{"midnight wrap early", FilterConfig{TimeWindow: "22:00-06:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 5, 59), FieldNone},
		{"midnight wrap outside", FilterConfig{TimeWindow: "22:00-06:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 6, 0), FieldTimeWindow},
		{"midnight wrap at midnight", FilterConfig{TimeWindow: "22:00-06:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 0, 0), FieldNone},
		// Saturday 03:00 belongs to Friday night's window.
		{"wrap counts the opening day", FilterConfig{TimeWindow: "22:00-06:00", Days: "fri", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 3, 0), FieldNone},
		{"wrap opening day excluded", FilterConfig{TimeWindow: "22:00-06:00", Days: "sat", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 3, 0), FieldDays},
		{"wrap same-day part", FilterConfig{TimeWindow: "22:00-06:00", Days: "sat", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 23, 0), FieldNone},
		{"days only", FilterConfig{Days: "sat-sun", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 7, 12, 0), FieldNone},
		{"days wrap range", FilterConfig{Days: "fri-mon", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 9, 12, 0), FieldNone},
		{"days wrap range miss", FilterConfig{Days: "fri-mon", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 10, 12, 0), FieldDays},
		{"days case-insensitive", FilterConfig{Days: "Mon, FRI", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 12, 0), FieldNone},
		{"window but wrong day", FilterConfig{TimeWindow: "08:00-20:00", Days: "mon-thu", TimeZone: "UTC"}, at(t, "UTC", 2026, 3, 6, 12, 0), FieldDays},
		// 07:30 UTC is 08:30 in Paris (CET, UTC+1) and 02:30 in New York (EST, UTC-5).
		{"zone paris", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "Europe/Paris"}, at(t, "UTC", 2026, 3, 6, 7, 30), FieldNone},
		{"zone new york", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "America/New_York"}, at(t, "UTC", 2026, 3, 6, 7, 30), FieldTimeWindow},
		// Friday 23:30 UTC is already Saturday 08:30 in Tokyo.
		{"zone moves the day", FilterConfig{TimeWindow: "08:00-20:00", Days: "sat", TimeZone: "Asia/Tokyo"}, at(t, "UTC", 2026, 3, 6, 23, 30), FieldNone},
		// Summer time: 07:30 UTC on 1 July is 09:30 in Paris (CEST, UTC+2).
		{"zone dst", FilterConfig{TimeWindow: "09:00-10:00", TimeZone: "Europe/Paris"}, at(t, "UTC", 2026, 7, 1, 7, 30), FieldNone},
		{"the input zone is irrelevant", FilterConfig{TimeWindow: "08:00-20:00", TimeZone: "UTC"}, at(t, "Asia/Tokyo", 2026, 3, 6, 18, 0), FieldNone},
		{"date inclusive start", FilterConfig{DateWindow: "2026-12-24/2026-12-26", TimeZone: "UTC"}, at(t, "UTC", 2026, 12, 24, 0, 0), FieldNone},
		{"date inclusive end", FilterConfig{DateWindow: "2026-12-24;2026-12-26", TimeZone: "UTC"}, at(t, "UTC", 2026, 12, 26, 23, 59), FieldNone},
		{"date after", FilterConfig{DateWindow: "2026-12-24/2026-12-26", TimeZone: "UTC"}, at(t, "UTC", 2026, 12, 27, 0, 0), FieldDateWindow},
		{"single date", FilterConfig{DateWindow: "2026-12-25", TimeZone: "UTC"}, at(t, "UTC", 2026, 12, 25, 10, 0), FieldNone},
		{"date in zone", FilterConfig{DateWindow: "2026-12-25", TimeZone: "Pacific/Auckland"}, at(t, "UTC", 2026, 12, 24, 12, 0), FieldNone},
		{"date and window", FilterConfig{DateWindow: "2026-12-25", TimeWindow: "10:00-11:00", TimeZone: "UTC"}, at(t, "UTC", 2026, 12, 25, 12, 0), FieldTimeWindow},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tb := mustCompile(t, Config{MT: []MTRouteConfig{st("r", "c", tc.f)}})
			v := tb.ExplainMT(&MT{Now: tc.now})
			if len(v) != 1 || v[0].Failed != tc.want {
				t.Errorf("got %+v, want %v", v, tc.want)
			}
			_, ok := tb.RouteMT(&MT{Now: tc.now}, nil)
			if ok != (tc.want == FieldNone) {
				t.Errorf("RouteMT ok=%v, explain says %v", ok, tc.want)
			}
		})
	}
}

func TestTimeZoneDefaultsToLocal(t *testing.T) {
	tb := mustCompile(t, Config{MT: []MTRouteConfig{st("r", "c", FilterConfig{TimeWindow: "08:00-09:00"})}})
	if loc := tb.MTRoutes()[0].filter.clock.loc; loc != time.Local {
		t.Errorf("zone %v, want Local", loc)
	}
}

func TestParseDays(t *testing.T) {
	cases := map[string]uint8{
		"sun": 1, "mon": 2, "sat": 64, "mon-fri": 0b0111110, "sat,sun": 0b1000001, "fri-mon": 0b1100011, "sun-sat": allDays,
	}
	for s, want := range cases {
		if got, err := parseDays(s); err != nil || got != want {
			t.Errorf("parseDays(%q) = %07b, %v; want %07b", s, got, err, want)
		}
	}
	for _, s := range []string{"", "monday", "mon-", "-fri", "mon,,fri", "1-5"} {
		if _, err := parseDays(s); err == nil {
			t.Errorf("parseDays(%q) accepted", s)
		}
	}
}

func TestParseClock(t *testing.T) {
	for _, s := range []string{"8:00", "08:0", "08-00", "08:00:", "0a:00", "23:60", "23:59:60", "08:00:00:00", ""} {
		if _, err := parseClock(s, true); err == nil {
			t.Errorf("parseClock(%q) accepted", s)
		}
	}
	if v, err := parseClock("23:59:59", false); err != nil || v != daySecs-1 {
		t.Errorf("23:59:59 = %d, %v", v, err)
	}
	if v, err := parseClock("24:00:00", true); err != nil || v != daySecs {
		t.Errorf("24:00:00 = %d, %v", v, err)
	}
	if _, err := parseWindows("01:00-02:00,02:00-03:00,03:00-04:00,04:00-05:00,05:00-06:00,06:00-07:00,07:00-08:00,08:00-09:00,09:00-10:00,10:00-11:00,11:00-12:00,12:00-13:00,13:00-14:00,14:00-15:00,15:00-16:00,16:00-17:00,17:00-18:00"); err == nil {
		t.Error("17 windows accepted")
	}
}
