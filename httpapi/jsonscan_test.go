package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestFlatObject(t *testing.T) {
	ok := func(in string, want map[string]string, tlvs string) {
		t.Helper()
		p := &params{}
		s := &scanner{b: []byte(in)}
		if err := p.flatObject(s); err != nil || !s.end() {
			t.Fatalf("%s: %v", in, err)
		}
		for k, v := range want {
			if p.vals[k] != v {
				t.Errorf("%s: %s = %q, want %q", in, k, p.vals[k], v)
			}
		}
		if len(p.vals) != len(want) || string(p.tlvs) != tlvs {
			t.Errorf("%s: %v tlvs %s", in, p.vals, p.tlvs)
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
			t.Errorf("%q accepted: %v", bad, p.vals)
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
		for k, v := range p.vals {
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

// appendJSON writes what encoding/json writes (without its HTML escapes).
func TestItemAppendJSON(t *testing.T) {
	idx := 7
	for _, it := range []item{
		{Status: 200, ID: "0123456789abcdef", Parts: []string{"0123456789abcdee", "0123456789abcdef"}},
		{Index: &idx, Status: 422, Error: &apiError{Code: "no_route", Message: "No route found", SMPPStatus: "ESME_RINVDSTADR", SMPPStatusCode: 11}},
		{Index: &idx, Status: 400, Error: &apiError{Code: "invalid_request", Message: "q\"\\\x01\x1f é \u2028 <&> \xff end"}},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(it); err != nil {
			t.Fatal(err)
		}
		if got := string(it.appendJSON(nil)); got != strings.TrimSuffix(want.String(), "\n") {
			t.Errorf("appendJSON = %s\n      want %s", got, want.String())
		}
	}
}
