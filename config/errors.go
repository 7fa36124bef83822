package config

import (
	"errors"
	"strconv"
)

// Error is one problem in a configuration file: the file, the line (0 when
// not known), the key as a dotted path ("smpp-server.port", "user[1].allow_ips";
// "" for a syntax error outside any key) and what is wrong.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

// Error formats e as "file:line: key: msg".
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		s += ": " + e.Key
	}
	return s + ": " + e.Msg
}

// maxErrors bounds how many problems one Load reports.
const maxErrors = 20

// errList collects Errors; err returns them joined, or nil.
type errList []error

func (l *errList) add(e *Error) {
	if len(*l) < maxErrors {
		*l = append(*l, e)
	}
}

func (l errList) err() error { return errors.Join(l...) }
