package httpapi

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
	"unsafe"
)

// A scanner for the JSON the API takes: a flat object of string, number
// and boolean members (a message, or /send's parameters), and the batch
// envelope {"messages": [...]}. encoding/json decodes a batch of 1,000
// messages several times over (the envelope, each message, each value
// tried as a string then a number); this reads each octet once and copies
// only the values, so a batch's parsing costs about what its submits do.
// It accepts exactly JSON's grammar for what it reads; a nested value is
// taken whole (custom_tlvs) and checked by encoding/json.

var errJSON = errors.New("httpapi: malformed JSON")

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.i++
	return true
}

// str reads a string at s.i (after its opening quote is seen by peek).
// A string without escapes is a view of s.b, not a copy: the body is read
// into a buffer of its own (readBody), never written to nor reused, and
// lives as long as a view; what must outlive the request is copied where
// it is kept (the dlr-url).
func (s *scanner) str() (string, error) {
	if !s.expect('"') {
		return "", errJSON
	}
	start, escaped := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw := s.b[start:s.i]
			s.i++
			if !escaped && utf8.Valid(raw) {
				if len(raw) == 0 {
					return "", nil
				}
				return unsafe.String(&raw[0], len(raw)), nil
			}
			var out string
			if err := json.Unmarshal(s.b[start-1:s.i], &out); err != nil {
				return "", errJSON
			}
			return out, nil
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c < 0x20:
			return "", errJSON
		}
		s.i++
	}
	return "", errJSON
}

// strRaw steps over a string at s.i and returns its octets between the
// quotes, without decoding escapes (they are left as written) or copying.
func (s *scanner) strRaw() ([]byte, bool, error) {
	if !s.expect('"') {
		return nil, false, errJSON
	}
	start, escaped := s.i, false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c < 0x20:
			return nil, false, errJSON
		}
		s.i++
	}
	return nil, false, errJSON
}

// key reads a member name: the parameters' names are returned as the
// constants below, so reading them copies nothing.
func (s *scanner) key() (string, error) {
	raw, escaped, err := s.strRaw()
	if err != nil {
		return "", err
	}
	if !escaped {
		for _, k := range knownKeys {
			if string(raw) == k {
				return k, nil
			}
		}
	}
	s.i -= len(raw) + 2
	return s.str()
}

// knownKeys are the member names the API takes.
var knownKeys = [...]string{"to", "from", "coding", "content", "hex-content", "priority", "sdt", "validity-period",
	"dlr", "dlr-url", "dlr-level", "dlr-method", "tags", "custom_tlvs", "username", "password", "messages"}

// number reads a JSON number (RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?
// ([eE][+-]?[0-9]+)?) and returns it as written.
func (s *scanner) number() (string, error) {
	start := s.i
	digits := func() int {
		n := 0
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
			n++
		}
		return n
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case digits() == 0:
		return "", errJSON
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return "", errJSON
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return "", errJSON
		}
	}
	return unsafe.String(&s.b[start], s.i-start), nil // a view, as str's
}

// literal reads true, false or null.
func (s *scanner) literal() (string, error) {
	for _, lit := range []string{"true", "false", "null"} {
		if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
			s.i += len(lit)
			return lit, nil
		}
	}
	return "", errJSON
}

// skip steps over one value of any kind and returns its octets; an
// object or array is checked with json.Valid when validate is set (a
// batch's messages are not: flatObject reads each one by JSON's grammar).
func (s *scanner) skip(validate bool) ([]byte, error) {
	s.ws()
	start := s.i
	switch c := s.peek(); {
	case c == '"':
		if _, _, err := s.strRaw(); err != nil {
			return nil, err
		}
	case c == '{' || c == '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, err := s.strRaw(); err != nil {
					return nil, err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				raw := s.b[start:s.i]
				if validate && !json.Valid(raw) {
					return nil, errJSON
				}
				return raw, nil
			}
		}
		return nil, errJSON
	case c == '-' || c >= '0' && c <= '9':
		if _, err := s.number(); err != nil {
			return nil, err
		}
	default:
		if _, err := s.literal(); err != nil {
			return nil, err
		}
	}
	return s.b[start:s.i], nil
}

// object calls member for each member of the object at s.i, with the
// scanner at the member's value; member must consume the value.
func (s *scanner) object(member func(key string) error) error {
	if !s.expect('{') {
		return errJSON
	}
	if s.expect('}') {
		return nil
	}
	for {
		key, err := s.key()
		if err != nil {
			return err
		}
		if !s.expect(':') {
			return errJSON
		}
		if err := member(key); err != nil {
			return err
		}
		if s.expect(',') {
			continue
		}
		if s.expect('}') {
			return nil
		}
		return errJSON
	}
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// errBadValue is a member whose value is not a string, number or boolean
// (custom_tlvs aside).
type errBadValue struct {
	key string
	raw []byte
}

func (e *errBadValue) Error() string { return "httpapi: member " + e.key + " has an invalid value" }

// flatObject reads an object of parameters into p: strings as they are,
// numbers as written, true and false for dlr ("yes", "no"), custom_tlvs
// as its JSON. A repeated member keeps its first value, as a repeated
// query parameter does.
func (p *params) flatObject(s *scanner) error {
	return s.object(func(key string) error {
		var v string
		switch c := s.peek(); {
		case c == '"':
			str, err := s.str()
			if err != nil {
				return err
			}
			v = str
		case c == '-' || c >= '0' && c <= '9':
			n, err := s.number()
			if err != nil {
				return err
			}
			v = n
		case key == "custom_tlvs" && c == '[':
			raw, err := s.skip(true)
			if err != nil {
				return err
			}
			if p.tlvs == nil {
				p.tlvs = raw
			}
			v = ""
		case key == "dlr" && (c == 't' || c == 'f'):
			lit, err := s.literal()
			if err != nil {
				return err
			}
			v = "no"
			if lit == "true" {
				v = "yes"
			}
		default:
			raw, err := s.skip(true)
			if err != nil {
				return err
			}
			return &errBadValue{key: key, raw: raw}
		}
		p.add(key, v)
		return nil
	})
}

// batchItems splits a body into its message objects when it is a batch
// ({"messages": [...]} and nothing else); batch is false for any other
// object (a single message). err: malformed JSON or a malformed envelope.
func batchItems(body []byte) (items [][]byte, batch bool, err error) {
	s := &scanner{b: body}
	if s.peek() != '{' {
		return nil, false, errJSON
	}
	probe := *s
	probe.i++
	if k, err := probe.key(); err != nil || k != "messages" || !probe.expect(':') {
		return nil, false, nil
	}
	err = s.object(func(key string) error {
		if key != "messages" || items != nil {
			return errEnvelope
		}
		if !s.expect('[') {
			return errEnvelope
		}
		items = make([][]byte, 0, 64)
		if s.expect(']') {
			return nil
		}
		for {
			if s.peek() != '{' {
				return errEnvelope
			}
			raw, err := s.skip(false)
			if err != nil {
				return err
			}
			items = append(items, raw)
			if s.expect(',') {
				continue
			}
			if s.expect(']') {
				return nil
			}
			return errJSON
		}
	})
	if err == nil && !s.end() {
		err = errJSON
	}
	return items, true, err
}

// errEnvelope: a batch whose envelope is not {"messages": [objects]}.
var errEnvelope = errors.New("httpapi: a batch is {\"messages\": [message objects]} and nothing else")
