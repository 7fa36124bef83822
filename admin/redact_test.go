package admin

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Every spelling of a secret key is redacted, whichever path the body
// takes; a body naming none is kept as it was, compacted.
func TestRedactJSON(t *testing.T) {
	f := func(body, want string) {
		t.Helper()
		got, ok := redactJSON([]byte(body))
		if !ok {
			t.Fatalf("%s: not JSON", body)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%s: %s is not JSON: %v", body, got, err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %s, want %s", body, got, want)
		}
	}
	f(`{"system_id":"carol","password":"pw"}`, `{"system_id":"carol","password":"[redacted]"}`)
	f(`{"PassWord":"pw"}`, `{"PassWord":"[redacted]"}`)
	f(`{"user":{"API_KEY":"k","x_token":"t"}}`, `{"user":{"API_KEY":"[redacted]","x_token":"[redacted]"}}`)
	f(`[{"callback_secret":"s"}]`, `[{"callback_secret":"[redacted]"}]`)
	f(`{"api_key":true}`, `{"api_key":true}`) // a flag holds no secret
	f(`{"\u0070assword":"pw"}`, `{"password":"[redacted]"}`)
	f("{\"to\u212Aen\":\"t\"}", "{\"to\u212Aen\":\"[redacted]\"}") // the Kelvin sign lowers to k
	f(` {"source_addr" : "4917000", "n": 1.50, "list": ["a", {"b": null}]} `,
		`{"source_addr":"4917000","n":1.50,"list":["a",{"b":null}]}`)
	f(`{"text":"<b>&</b>"}`, `{"text":"<b>&</b>"}`)

	if got, _ := redactJSON([]byte(` {"b": 1, "a": [1, 2.50]} `)); string(got) != `{"b":1,"a":[1,2.50]}` {
		t.Errorf("a body without secrets: %s, want it compacted as written", got)
	}
	for _, bad := range []string{``, ` `, `{} {}`, `{}}`, `{"a":`, `nul`, `{"password":}`} {
		if got, ok := redactJSON([]byte(bad)); ok {
			t.Errorf("%q: accepted as %s", bad, got)
		}
	}
}

// The fast path's answer means what the decoding path's does.
func TestRedactJSONPathsAgree(t *testing.T) {
	for _, body := range []string{
		`{"source_addr":"4917000","destination_addr":"1234","short_message":"hi there"}`,
		`{"set":"7","lists":{"source_addrs":["a","b"]},"quota":500,"enabled":false,"x":null}`,
		`[1,"two",{"three":3.0e1}]`, `"s"`, `12`, `{"topup":"12.5"}`,
	} {
		if maySayASecret([]byte(body)) {
			t.Fatalf("%s: takes the decoding path", body)
		}
		fast, ok1 := redactJSON([]byte(body))
		slow, ok2 := redactDecoded([]byte(body))
		var a, b any
		if !ok1 || !ok2 || json.Unmarshal(fast, &a) != nil || json.Unmarshal(slow, &b) != nil || !reflect.DeepEqual(a, b) {
			t.Errorf("%s: fast %s (%v), decoded %s (%v)", body, fast, ok1, slow, ok2)
		}
	}
	for _, w := range []string{"password", "SECRET", "Token", "api_KEY", `\u0041`, "é"} {
		if !maySayASecret([]byte(`{"x` + w + `":1}`)) {
			t.Errorf("%s: not seen", w)
		}
	}
	if maySayASecret([]byte(strings.Repeat(`{"passwor":"secre","toke":"api-key"}`, 3))) {
		t.Error("near misses seen as secrets")
	}
}
