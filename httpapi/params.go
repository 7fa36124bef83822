package httpapi

import (
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/smppd/smppd/httpapi/content"
)

// Jasmin's request parameters: which an endpoint takes, which it requires
// and what each value must look like, checked as Jasmin's UrlArgsValidator
// checks them (an unknown parameter is refused), with Jasmin's messages.

// field is one parameter an endpoint takes.
type field struct {
	name     string
	required bool
	valid    func(v string) bool // nil: any value
}

// fieldSet is an endpoint's parameters.
type fieldSet []field

// index is name's position in fs, -1 if fs does not take it.
func (fs fieldSet) index(name string) int {
	for i := range fs {
		if fs[i].name == name {
			return i
		}
	}
	return -1
}

// The parameters of /send, /rate and /balance (Jasmin's field tables).
var (
	sendFields = fieldSet{
		{"to", true, validTo}, {"from", false, nil}, {"coding", false, validCoding},
		{"username", true, valid1to16}, {"password", true, valid1to16},
		{"priority", false, validPriority}, {"sdt", false, validSDT}, {"validity-period", false, digits},
		{"dlr", true, validYesNo}, {"dlr-url", false, validURL}, {"dlr-level", false, validLevel},
		{"dlr-method", false, validMethod}, {"tags", false, validTags},
		{"content", false, nil}, {"hex-content", false, nil}, {"custom_tlvs", false, nil},
	}
	rateFields = fieldSet{
		{"to", true, validTo}, {"from", false, nil}, {"coding", false, validCoding},
		{"username", true, valid1to16}, {"password", true, valid1to16},
		{"priority", false, validPriority}, {"validity-period", false, digits}, {"tags", false, validTags},
		{"content", false, nil}, {"hex-content", false, nil},
	}
	balanceFields = fieldSet{{"username", true, valid1to16}, {"password", true, valid1to16}}
)

// params are a request's parameters, one value each (Jasmin reads the
// first of repeated ones), and custom_tlvs as JSON when a JSON body gave
// a list.
type params struct {
	vals map[string]string
	tlvs json.RawMessage
}

func (p *params) get(name string) (string, bool) {
	v, ok := p.vals[name]
	return v, ok
}

// fromQuery takes the first value of each parameter of a query string or
// form body (application/x-www-form-urlencoded, as url.ParseQuery reads
// it: '&'-separated, '+' a space, %XX escapes; a ';' is refused), straight
// into p, without url.Values' map of slices.
func (p *params) fromQuery(q string) error {
	if p.vals == nil {
		p.vals = make(map[string]string, 8)
	}
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if strings.Contains(kv, ";") {
			return errSemicolon
		}
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		k, err := url.QueryUnescape(k)
		if err != nil {
			return err
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return err
		}
		if _, seen := p.vals[k]; !seen {
			p.vals[k] = v
		}
	}
	return nil
}

// errSemicolon: url.ParseQuery refuses ';' as a separator since Go 1.17.
var errSemicolon = errors.New("httpapi: invalid semicolon separator in query")

// fromJSON takes a JSON object's members as parameters, as Jasmin does for
// a POST with Content-Type application/json: strings as they are, numbers
// as written, dlr also as true or false, custom_tlvs as its JSON list.
// Anything else is refused.
func (p *params) fromJSON(body []byte) *failure {
	s := scanner{b: body}
	bad := func() *failure { return badRequest("Invalid JSON body: expected one object of parameters") }
	if s.peek() != '{' {
		return bad()
	}
	if err := p.flatObject(&s); err != nil {
		var bv *errBadValue
		if errors.As(err, &bv) {
			return badRequest("Argument [" + clip(bv.key) + "] has an invalid value: [" + clip(string(bv.raw)) + "].")
		}
		return bad()
	}
	if !s.end() {
		return bad()
	}
	return nil
}

// check applies fs as Jasmin's UrlArgsValidator: no parameters at all,
// an unknown parameter, then, in fs's order, the first required one
// missing or value that does not match. Unknown names are reported in
// sorted order, so the answer does not depend on map order. One pass over
// the parameters: a batch checks a thousand messages.
func (p *params) check(fs fieldSet) *failure {
	if len(p.vals) == 0 {
		return badRequest("Mandatory arguments not found, please refer to the HTTPAPI specifications.")
	}
	var seen, invalid uint64 // bit i: fs[i]
	unknown := ""
	for k, v := range p.vals {
		i := fs.index(k)
		if i < 0 {
			if unknown == "" || k < unknown {
				unknown = k
			}
			continue
		}
		seen |= 1 << i
		if f := &fs[i]; f.valid != nil && !f.valid(v) {
			invalid |= 1 << i
		}
	}
	if unknown != "" {
		return badRequest("Argument [" + clip(unknown) + "] is unknown.")
	}
	for i := range fs {
		f := &fs[i]
		switch {
		case seen&(1<<i) == 0 && f.required:
			return badRequest("Mandatory argument [" + f.name + "] is not found.")
		case invalid&(1<<i) != 0:
			return badRequest("Argument [" + f.name + "] has an invalid value: [" + clip(p.vals[f.name]) + "].")
		}
	}
	return nil
}

// sendDefaults fills what Jasmin fills before it validates /send: coding
// 0; dlr "yes" when dlr-url or dlr-level is given, else "no"; with dlr
// yes, dlr-level 1 and dlr-method POST; dlr-method upper case.
func (p *params) sendDefaults() {
	if _, ok := p.vals["coding"]; !ok {
		p.vals["coding"] = "0"
	}
	_, url := p.vals["dlr-url"]
	_, level := p.vals["dlr-level"]
	if url || level {
		p.vals["dlr"] = "yes"
	}
	if _, ok := p.vals["dlr"]; !ok {
		p.vals["dlr"] = "no"
	}
	if m, ok := p.vals["dlr-method"]; ok {
		p.vals["dlr-method"] = strings.ToUpper(m)
	}
}

func digits(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// validTo is Jasmin's ^\+{0,1}\d+$, and at most 20 octets: SMPP's
// destination_addr (SMPP 3.4 §5.2.9).
func validTo(v string) bool {
	return len(v) <= maxAddr && digits(strings.TrimPrefix(v, "+"))
}

// maxAddr is the longest source_addr and destination_addr, without the NUL
// (SMPP 3.4 §5.2.8-9).
const maxAddr = 20

func validCoding(v string) bool {
	n, err := strconv.Atoi(v)
	return err == nil && digits(v) && content.ValidCoding(n)
}

// valid1to16 is Jasmin's ^.{1,16}$ on octets.
func valid1to16(v string) bool { return len(v) >= 1 && len(v) <= 16 && !strings.ContainsRune(v, '\n') }

func validPriority(v string) bool { return len(v) == 1 && v[0] >= '0' && v[0] <= '3' }

// validSDT is Jasmin's SMPP absolute or relative time pattern:
// YYMMDDhhmmss, tenths, the quarter-hour offset and +, - or R (SMPP 3.4
// §7.1.1).
func validSDT(v string) bool {
	if len(v) != 16 || !digits(v[:15]) {
		return false
	}
	switch v[15] {
	case '+', '-', 'R':
		return true
	}
	return false
}

func validYesNo(v string) bool { return v == "yes" || v == "no" }

// validURL is Jasmin's ^(http|https)\://.*$, at most 2,048 octets.
func validURL(v string) bool {
	return len(v) <= maxURL && (strings.HasPrefix(v, "http://") || strings.HasPrefix(v, "https://")) &&
		!strings.ContainsAny(v, "\r\n")
}

// maxURL is the longest dlr-url kept (storage.MaxCallbackURL).
const maxURL = 2048

func validLevel(v string) bool { return len(v) == 1 && v[0] >= '1' && v[0] <= '3' }

func validMethod(v string) bool { return v == "GET" || v == "POST" }

// validTags is Jasmin's ^([-a-zA-Z0-9,])*$.
func validTags(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c == '-' || c == ',' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
