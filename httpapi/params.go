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

// param names one of the parameters the API knows (any endpoint's): a
// request's parameters are kept in an array indexed by it, so reading and
// checking them hashes nothing (a batch reads a thousand messages).
type param uint8

const (
	pTo param = iota
	pFrom
	pCoding
	pUsername
	pPassword
	pPriority
	pSDT
	pValidity
	pDLR
	pDLRURL
	pDLRLevel
	pDLRMethod
	pTags
	pContent
	pHexContent
	pCustomTLVs
	nParams
)

// paramNames are the parameters' names, as requests write them.
var paramNames = [nParams]string{"to", "from", "coding", "username", "password", "priority", "sdt", "validity-period",
	"dlr", "dlr-url", "dlr-level", "dlr-method", "tags", "content", "hex-content", "custom_tlvs"}

// paramOf is the parameter named name; ok false for a name the API does
// not know (a string switch: no hashing).
func paramOf(name string) (param, bool) {
	switch name {
	case "to":
		return pTo, true
	case "from":
		return pFrom, true
	case "coding":
		return pCoding, true
	case "username":
		return pUsername, true
	case "password":
		return pPassword, true
	case "priority":
		return pPriority, true
	case "sdt":
		return pSDT, true
	case "validity-period":
		return pValidity, true
	case "dlr":
		return pDLR, true
	case "dlr-url":
		return pDLRURL, true
	case "dlr-level":
		return pDLRLevel, true
	case "dlr-method":
		return pDLRMethod, true
	case "tags":
		return pTags, true
	case "content":
		return pContent, true
	case "hex-content":
		return pHexContent, true
	case "custom_tlvs":
		return pCustomTLVs, true
	}
	return 0, false
}

// field is one parameter an endpoint takes.
type field struct {
	p        param
	required bool
	valid    func(v string) bool // nil: any value
}

func (f *field) name() string { return paramNames[f.p] }

// fieldSet is an endpoint's parameters.
type fieldSet []field

// The parameters of /send, /rate and /balance (Jasmin's field tables).
var (
	sendFields = fieldSet{
		{pTo, true, validTo}, {pFrom, false, nil}, {pCoding, false, validCoding},
		{pUsername, true, valid1to16}, {pPassword, true, valid1to16},
		{pPriority, false, validPriority}, {pSDT, false, validSDT}, {pValidity, false, digits},
		{pDLR, true, validYesNo}, {pDLRURL, false, validURL}, {pDLRLevel, false, validLevel},
		{pDLRMethod, false, validMethod}, {pTags, false, validTags},
		{pContent, false, nil}, {pHexContent, false, nil}, {pCustomTLVs, false, nil},
	}
	rateFields = fieldSet{
		{pTo, true, validTo}, {pFrom, false, nil}, {pCoding, false, validCoding},
		{pUsername, true, valid1to16}, {pPassword, true, valid1to16},
		{pPriority, false, validPriority}, {pValidity, false, digits}, {pTags, false, validTags},
		{pContent, false, nil}, {pHexContent, false, nil},
	}
	balanceFields = fieldSet{{pUsername, true, valid1to16}, {pPassword, true, valid1to16}}
)

// params are a request's parameters, one value each (Jasmin reads the
// first of repeated ones), and custom_tlvs as JSON when a JSON body gave
// a list. Values may be views into the request (its query or body): what
// outlives the request is copied (a dlr-url).
type params struct {
	val [nParams]string
	has uint32 // bit p: parameter p was given
	// n counts the parameters given, unknown names included; unknown is
	// the first unknown name in sorted order (the one Jasmin reports).
	n       int
	unknown string
	tlvs    json.RawMessage
}

// get is parameter k's value and whether it was given.
func (p *params) get(k param) (string, bool) { return p.val[k], p.has&(1<<k) != 0 }

// value is parameter k's value, "" when not given.
func (p *params) value(k param) string { return p.val[k] }

// given reports whether parameter k was given.
func (p *params) given(k param) bool { return p.has&(1<<k) != 0 }

// set gives parameter k the value v (a default, or the basic auth's
// credentials), replacing any.
func (p *params) set(k param, v string) {
	if !p.given(k) {
		p.n++
	}
	p.val[k], p.has = v, p.has|1<<k
}

// own makes parameter k's value a copy of its own, not a view of the
// request, for a value that may be kept after it.
func (p *params) own(k param) {
	if p.given(k) {
		p.val[k] = strings.Clone(p.val[k])
	}
}

// add takes a parameter as a request names it: the first value of a name
// is kept; an unknown name is remembered for check.
func (p *params) add(name, v string) {
	k, ok := paramOf(name)
	switch {
	case !ok:
		if p.unknown == "" || name < p.unknown {
			p.unknown = name
		}
		p.n++
	case !p.given(k):
		p.set(k, v)
	}
}

// reset clears p for the next request.
func (p *params) reset() { *p = params{} }

// fromQuery takes the first value of each parameter of a query string or
// form body (application/x-www-form-urlencoded, as url.ParseQuery reads
// it: '&'-separated, '+' a space, %XX escapes; a ';' is refused), straight
// into p, without url.Values' map of slices.
func (p *params) fromQuery(q string) error {
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
		p.add(k, v)
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
// an unknown parameter (one the API does not know, or one fs does not
// take; the first in sorted order, so the answer does not depend on the
// request's order), then, in fs's order, the first required one missing
// or value that does not match.
func (p *params) check(fs fieldSet) *failure {
	if p.n == 0 {
		return badRequest("Mandatory arguments not found, please refer to the HTTPAPI specifications.")
	}
	var taken uint32
	for i := range fs {
		taken |= 1 << fs[i].p
	}
	unknown := p.unknown
	if extra := p.has &^ taken; extra != 0 {
		for k := range nParams {
			if extra&(1<<k) != 0 && (unknown == "" || paramNames[k] < unknown) {
				unknown = paramNames[k]
			}
		}
	}
	if unknown != "" {
		return badRequest("Argument [" + clip(unknown) + "] is unknown.")
	}
	for i := range fs {
		f := &fs[i]
		v, ok := p.get(f.p)
		switch {
		case !ok && f.required:
			return badRequest("Mandatory argument [" + f.name() + "] is not found.")
		case ok && f.valid != nil && !f.valid(v):
			return badRequest("Argument [" + f.name() + "] has an invalid value: [" + clip(v) + "].")
		}
	}
	return nil
}

// sendDefaults fills what Jasmin fills before it validates /send: coding
// 0; dlr "yes" when dlr-url or dlr-level is given, else "no"; with dlr
// yes, dlr-level 1 and dlr-method POST; dlr-method upper case.
func (p *params) sendDefaults() {
	if !p.given(pCoding) {
		p.set(pCoding, "0")
	}
	if p.given(pDLRURL) || p.given(pDLRLevel) {
		p.set(pDLR, "yes")
	}
	if !p.given(pDLR) {
		p.set(pDLR, "no")
	}
	if m, ok := p.get(pDLRMethod); ok {
		p.set(pDLRMethod, strings.ToUpper(m)) // no copy when already upper case
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
