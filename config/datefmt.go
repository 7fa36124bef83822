package config

import (
	"errors"
	"strings"
)

// timeLayout turns log_date_format into a Go time layout. A value holding
// '%' is a strftime pattern (Jasmin writes Python's, e.g. "%Y-%m-%d
// %H:%M:%S"); anything else is taken as a Go layout ("2006-01-02 15:04:05").
// "" means RFC 3339 with milliseconds.
//
// Limitation: literal text in a strftime pattern that happens to spell a Go
// layout element ("Jan", "2006", "15") is reinterpreted by Go's formatter.
func timeLayout(f string) (string, error) {
	if f == "" {
		return "2006-01-02T15:04:05.000Z07:00", nil
	}
	if !strings.Contains(f, "%") {
		return f, nil
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(f) {
			return "", errors.New("strftime pattern ends with a lone '%'")
		}
		el, ok := strftime[f[i]]
		if !ok {
			return "", errors.New("unsupported strftime directive %" + string(f[i]))
		}
		b.WriteString(el)
	}
	return b.String(), nil
}

// strftime maps strftime directives to Go layout elements.
var strftime = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "01", 'd': "02", 'e': "_2",
	'H': "15", 'I': "03", 'M': "04", 'S': "05", 'p': "PM",
	'b': "Jan", 'h': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday",
	'j': "002", 'f': "000000", 'z': "-0700", 'Z': "MST",
	'F': "2006-01-02", 'T': "15:04:05", '%': "%",
}
