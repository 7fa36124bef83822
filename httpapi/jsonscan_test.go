package httpapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unsafe"

	"github.com/smppd/smppd/msg"
)

func TestFlatObject(t *testing.T) {
	ok := func(in string, want map[string]string, tlvs string) {
		t.Helper()
		p := &params{}
		s := &scanner{b: []byte(in)}
		if err := p.flatObject(s); err != nil || !s.end() {
			t.Fatalf("%s: %v", in, err)
		}
		got := paramMap(p)
		if !maps.Equal(got, want) || p.n != len(want) || string(p.tlvs) != tlvs {
			t.Errorf("%s: %v (n %d) tlvs %s, want %v", in, got, p.n, p.tlvs, want)
		}
	}
	ok(`{}`, map[string]string{}, "")
	ok(` { "to" : "+33" , "coding":8,"priority":-1.5e2 } `, map[string]string{"to": "+33", "coding": "8", "priority": "-1.5e2"}, "")
	ok(`{"content":"a\"b\u00e9\n","dlr":true}`, map[string]string{"content": "a\"bé\n", "dlr": "yes"}, "")
	ok(`{"dlr":false,"to":"1","to":"2"}`, map[string]string{"dlr": "no", "to": "1"}, "")
	ok(`{"custom_tlvs":[[5120,null,"Int1",1],[5121,"x]"]],"to":"1"}`, map[string]string{"custom_tlvs": "", "to": "1"},
		`[[5120,null,"Int1",1],[5121,"x]"]]`)
	for _, bad := range []string{``, `[]`, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1}x`, `{"a":01x}`, `{"a":+1}`, `{"a":"\x01"}`,
		`{"a":"unterminated}`, `{"dlr":tru}`, `{"a":nul}`, `{a:1}`, `{"custom_tlvs":[1,}`} {
		p := &params{}
		s := &scanner{b: []byte(bad)}
		if err := p.flatObject(s); err == nil && s.end() {
			t.Errorf("%q accepted: %v", bad, paramMap(p))
		}
	}
	for _, in := range []string{`{"a":null}`, `{"a":{"b":1}}`, `{"a":[1]}`, `{"a":true}`} {
		p := &params{}
		var bv *errBadValue
		if err := p.flatObject(&scanner{b: []byte(in)}); err == nil || !asBadValue(err, &bv) {
			t.Errorf("%s: %v, want a bad value", in, err)
		}
	}
}

// paramMap is the parameters p was given that the API knows, by name.
func paramMap(p *params) map[string]string {
	m := map[string]string{}
	for k := range nParams {
		if v, ok := p.get(k); ok {
			m[paramNames[k]] = v
		}
	}
	return m
}

func asBadValue(err error, out **errBadValue) bool {
	bv, ok := err.(*errBadValue)
	*out = bv
	return ok
}

func TestBatchItems(t *testing.T) {
	items, batch, err := batchItems([]byte(` {"messages": [ {"to":"1"} , {"to":"]}"} ] } `))
	if err != nil || !batch || len(items) != 2 || string(items[1]) != `{"to":"]}"}` {
		t.Fatalf("%q %v %v", items, batch, err)
	}
	if _, batch, err := batchItems([]byte(`{"to":"1","messages":[]}`)); batch || err != nil {
		t.Errorf("a single message with a messages member: batch %v %v", batch, err)
	}
	if items, batch, err := batchItems([]byte(`{"messages":[]}`)); !batch || err != nil || len(items) != 0 {
		t.Errorf("empty batch: %v %v %v", items, batch, err)
	}
	for _, bad := range []string{`{"messages":{}}`, `{"messages":[1]}`, `{"messages":[{}],"x":1}`, `{"messages":[{}]`,
		`{"messages":[{}]} {}`, `{"messages":[{"a":1]}`} {
		if _, batch, err := batchItems([]byte(bad)); err == nil {
			t.Errorf("%s accepted (batch %v)", bad, batch)
		}
	}
}

// FuzzFlatObject: whatever flatObject accepts, encoding/json reads the same
// members (strings equal, numbers as written).
func FuzzFlatObject(f *testing.F) {
	for _, s := range []string{`{"to":"+33","coding":8}`, `{"content":"\u00e9\\"}`, `{"dlr":true,"a":-0.5e3}`,
		`{"custom_tlvs":[[5120,"Int1",1]]}`, `{"a":"b","a":"c"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := &params{}
		s := &scanner{b: []byte(in)}
		if p.flatObject(s) != nil || !s.end() {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &m); err != nil {
			t.Fatalf("%q accepted, encoding/json refuses it: %v", in, err)
		}
		for k, v := range paramMap(p) {
			raw, ok := m[k]
			if !ok {
				t.Fatalf("%q: %s missing in encoding/json's reading", in, k)
			}
			if k == "custom_tlvs" || k == "dlr" && (string(raw) == "true" || string(raw) == "false") {
				continue
			}
			var str string
			if json.Unmarshal(raw, &str) == nil {
				if strings.Count(in, `"`+k+`"`) == 1 && str != v {
					t.Fatalf("%q: %s = %q, encoding/json %q", in, k, v, str)
				}
				continue
			}
			var n json.Number
			if json.Unmarshal(raw, &n) != nil || strings.Count(in, `"`+k+`"`) == 1 && n.String() != v {
				t.Fatalf("%q: %s = %q, encoding/json %s", in, k, v, raw)
			}
		}
	})
}

// item is one message's answer as the JSON API writes it (the body of a
// single message's success, an item of a batch): what tests decode.
type item struct {
	Index  *int      `json:"index,omitempty"`
	Status int       `json:"status"`
	ID     string    `json:"id,omitempty"`
	Parts  []string  `json:"parts,omitempty"`
	Error  *apiError `json:"error,omitempty"`
}

// appendJSON writes what encoding/json writes of the same item (without
// its HTML escapes).
func TestResultAppendJSON(t *testing.T) {
	idx := 7
	ids := []msg.ID{0x0123456789abcdee, 0x0123456789abcdef}
	for _, c := range []struct {
		r     result
		index int
		want  item
	}{
		{result{status: 200, ids: ids}, -1, item{Status: 200, ID: "0123456789abcdef", Parts: []string{"0123456789abcdee", "0123456789abcdef"}}},
		{result{status: 200, ids: ids[1:]}, 7, item{Index: &idx, Status: 200, ID: "0123456789abcdef", Parts: []string{"0123456789abcdef"}}},
		{result{status: 422, err: &apiError{Code: "no_route", Message: "No route found", SMPPStatus: "ESME_RINVDSTADR", SMPPStatusCode: 11}}, 7,
			item{Index: &idx, Status: 422, Error: &apiError{Code: "no_route", Message: "No route found", SMPPStatus: "ESME_RINVDSTADR", SMPPStatusCode: 11}}},
		{result{status: 400, err: &apiError{Code: "invalid_request", Message: "q\"\\\x01\x1f é \u2028 <&> \xff end"}}, 7,
			item{Index: &idx, Status: 400, Error: &apiError{Code: "invalid_request", Message: "q\"\\\x01\x1f é \u2028 <&> \xff end"}}},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.want); err != nil {
			t.Fatal(err)
		}
		if got := string(c.r.appendJSON(nil, c.index)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendJSON = %s\n      want %s", got, want.String())
		}
	}
}

// TestStrIsAView: a string without escapes is read without a copy (a
// batch's values), one with escapes is decoded into its own.
func TestStrIsAView(t *testing.T) {
	b := []byte(`{"to":"33600000001","content":"a\u00e9"}`)
	var p params
	if err := p.flatObject(&scanner{b: b}); err != nil {
		t.Fatal(err)
	}
	if to := p.value(pTo); to != "33600000001" || unsafe.StringData(to) != &b[7] {
		t.Errorf("to %q is not a view of the body", to)
	}
	if c := p.value(pContent); c != "aé" {
		t.Errorf("content %q", c)
	}
	if raceEnabled {
		return // allocations are not counted under the race detector
	}
	if n := testing.AllocsPerRun(100, func() {
		var p params
		_ = p.flatObject(&scanner{b: []byte(`{"to":"33600000001","content":"a batch message","coding":0,"dlr":true}`)[:]})
	}); n > 1 {
		t.Errorf("%v allocations to read a message without escapes, want at most 1 (the literal's copy)", n)
	}
}
