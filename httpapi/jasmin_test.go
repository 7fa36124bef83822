package httpapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/httpapi/content"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// record returns the stored record of a hex id.
func (e *env) record(id string) storage.Record {
	e.t.Helper()
	mid, err := msg.ParseID([]byte(id))
	if err != nil {
		e.t.Fatal(err)
	}
	var r storage.Record
	if err := e.core.Store.Get(mid, &r); err != nil {
		e.t.Fatalf("record %s: %v", id, err)
	}
	return r
}

// The three ways Jasmin's documentation sends: GET with a query, POST with
// a form, POST with JSON; each queues the message through the hub.
func TestSendGETPOSTJSON(t *testing.T) {
	e := newEnv(t)
	id := e.get("/send", sendQuery("alice", "from", "ACME")).successID(t)
	r := e.record(id)
	if r.SystemID != "alice" || string(r.DestAddr()) != "33612345678" || string(r.SourceAddr()) != "ACME" ||
		string(r.TextPrefix()) != "hello" || r.Parts != 1 || r.Charge != 500_000 || r.SourceTON != 5 || r.DestTON != 1 {
		t.Errorf("record = %+v", r)
	}
	form := sendQuery("alice", "to", "+4917012345", "coding", "8", "hex-content", "00480069", "content", "\x00")
	id = e.post("/send", "application/x-www-form-urlencoded", form.Encode()).successID(t)
	if r := e.record(id); string(r.DestAddr()) != "+4917012345" || r.DataCoding != 8 || string(r.TextPrefix()) != "\x00H\x00i" {
		t.Errorf("form record = %+v", r)
	}
	body := `{"username":"alice","password":"alicepw","to":"33600000001","content":"json hi","coding":0,"priority":2}`
	id = e.post("/send", "application/json", body).successID(t)
	if r := e.record(id); string(r.TextPrefix()) != "json hi" {
		t.Errorf("json record = %+v", r)
	}
	// A form's parameters may also sit in the query string, as Twisted merges them.
	id = e.post("/send?username=alice&password=alicepw", "application/x-www-form-urlencoded", "to=33600000002&content=q").successID(t)
	e.record(id)
	// HTTP basic auth stands in for username and password.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/send?to=33600000003&content=basic", nil)
	req.SetBasicAuth("alice", "alicepw")
	e.do(req).successID(t)
	// Balance: 5 messages of one part at 0.5.
	var bal map[string]any
	a := e.get("/balance", url.Values{"username": {"alice"}, "password": {"alicepw"}})
	a.decode(t, &bal)
	if a.status != 200 || bal["balance"] != 97.5 || bal["sms_count"] != "ND" || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("/balance = %d %s", a.status, a.body)
	}
}

// Every parameter rule of Jasmin's /send, with Jasmin's messages.
func TestSendParameterRules(t *testing.T) {
	e := newEnv(t)
	f := func(q url.Values, want string) {
		t.Helper()
		e.get("/send", q).want(t, 400, `Error "`+want+`"`)
	}
	f(url.Values{}, "Mandatory argument [to] is not found.")
	e.do(mustReq(t, http.MethodGet, e.url+"/send?username=alice;to=1")).want(t, 400, `Error "The query string is malformed."`)
	e.do(mustReq(t, http.MethodGet, e.url+"/send?username=%zz")).want(t, 400, `Error "The query string is malformed."`) // as Jasmin: its defaults fill coding and dlr first
	f(sendQuery("alice", "foo", "1"), "Argument [foo] is unknown.")
	f(sendQuery("alice", "to", "\x00"), "Mandatory argument [to] is not found.")
	f(sendQuery("alice", "username", "\x00"), "Mandatory argument [username] is not found.")
	f(sendQuery("alice", "to", "33-61"), "Argument [to] has an invalid value: [33-61].")
	f(sendQuery("alice", "to", "+"), "Argument [to] has an invalid value: [+].")
	f(sendQuery("alice", "to", "123456789012345678901"), "Argument [to] has an invalid value: [123456789012345678901].")
	f(sendQuery("alice", "coding", "11"), "Argument [coding] has an invalid value: [11].")
	f(sendQuery("alice", "coding", "-1"), "Argument [coding] has an invalid value: [-1].")
	f(sendQuery("alice", "username", "aaaaaaaaaaaaaaaaa"), "Argument [username] has an invalid value: [aaaaaaaaaaaaaaaaa].")
	f(sendQuery("alice", "password", ""), "Argument [password] has an invalid value: [].")
	f(sendQuery("alice", "priority", "4"), "Argument [priority] has an invalid value: [4].")
	f(sendQuery("alice", "sdt", "2601011200000"), "Argument [sdt] has an invalid value: [2601011200000].")
	f(sendQuery("alice", "validity-period", "1h"), "Argument [validity-period] has an invalid value: [1h].")
	f(sendQuery("alice", "validity-period", "99999999"), "Argument [validity-period] has an invalid value: [99999999].")
	f(sendQuery("alice", "dlr", "maybe"), "Argument [dlr] has an invalid value: [maybe].")
	f(sendQuery("alice", "dlr-url", "ftp://x"), "Argument [dlr-url] has an invalid value: [ftp://x].")
	f(sendQuery("alice", "dlr-level", "4"), "Argument [dlr-level] has an invalid value: [4].")
	f(sendQuery("alice", "dlr", "yes", "dlr-method", "PUT"), "Argument [dlr-method] has an invalid value: [PUT].")
	f(sendQuery("alice", "tags", "a b"), "Argument [tags] has an invalid value: [a b].")
	f(sendQuery("alice", "content", "\x00"), "content or hex-content not present.")
	f(sendQuery("alice", "hex-content", "41"), "content and hex-content cannot be used both in same request.")
	f(sendQuery("alice", "content", "\x00", "hex-content", "4G"), "Invalid hex-content data: '4G'")
	f(sendQuery("alice", "from", "123456789012345678901"), "Argument [from] has an invalid value: [123456789012345678901].")
	f(sendQuery("alice", "custom_tlvs", "[[1,null,\"Int1\",1]]"), "Argument [custom_tlvs] has an invalid value: a JSON list of [tag, length, type, value] with vendor-range tags (0x1400-0x3FFF), at most 16.")
	f(sendQuery("alice", "sdt", "991301000000000+"), "Schedule delivery time is not a valid SMPP time or comes after the validity period.")
	// Accepted: dlr-method in any case, the rest of the optional parameters.
	id := e.get("/send", sendQuery("alice", "dlr", "yes", "dlr-method", "get", "priority", "3", "tags", "a,b-1",
		"validity-period", "60", "sdt", "000000001000000R", "custom_tlvs", `[[5120,null,"Int2",7],[5121,"COctetString","x"]]`)).successID(t)
	if r := e.record(id); r.RegisteredDelivery != 1 {
		t.Errorf("dlr=yes: registered_delivery %d", r.RegisteredDelivery)
	}
}

// Refusals of /send: authentication, rights, no route, no credit or quota,
// throughput, with Jasmin's statuses.
func TestSendRefusals(t *testing.T) {
	e := newEnv(t)
	e.get("/send", sendQuery("alice", "password", "wrong")).want(t, 403, `Error "Authentication failure for username:alice"`)
	e.get("/send", sendQuery("nobody")).want(t, 403, `Error "Authentication failure for username:nobody"`)
	e.get("/send", sendQuery("erin")).want(t, 403, `Error "Authentication failure for username:erin"`)
	deny := func(q url.Values, what string) {
		t.Helper()
		e.get("/send", q).want(t, 400, `Error "Authorization failed for user [bob] (`+what+`)."`)
	}
	deny(sendQuery("bob"), "Cannot send MT messages")
	bob := func(kv ...string) url.Values { return sendQuery("bob", kv...) }
	// Rights one at a time: a user with only one right missing.
	for _, tc := range []struct {
		right string
		q     url.Values
		what  string
	}{
		{"http_long_content", bob("content", strings.Repeat("x", 200)), "Long content not authorized"},
		{"set_hex_content", bob("content", "\x00", "hex-content", "41"), "Setting hex content not authorized"},
		{"set_schedule_delivery_time", bob("sdt", "000000010000000R"), "Setting schedule delivery time not authorized"},
		{"http_set_dlr_method", bob("dlr", "yes", "dlr-method", "GET"), "Setting dlr method not authorized"},
	} {
		e.denyOnly(t, "bob", tc.right)
		deny(tc.q, tc.what)
	}
	e.get("/send", sendQuery("frank", "dlr", "yes")).want(t, 400, `Error "Authorization failed for user [frank] (Setting dlr level not authorized)."`)
	e.get("/send", sendQuery("alice", "to", "1234")).want(t, 412, `Error "No route found"`)
	e.get("/send", sendQuery("dave")).want(t, 403, `Error "Cannot charge submit_sm: not enough balance or quota"`)
	e.get("/send", sendQuery("frank")).successID(t)
	e.get("/send", sendQuery("frank")).successID(t)
	e.get("/send", sendQuery("frank")).want(t, 403, `Error "Cannot charge submit_sm: not enough balance or quota"`)
	e.get("/send", sendQuery("alice", "from", "x", "priority", "1", "coding", "0", "content", "é")).successID(t)
	for range 3 {
		e.get("/send", sendQuery("carol")).successID(t)
	}
	e.get("/send", sendQuery("carol")).want(t, 403, `Error "User throughput exceeded"`)
}

func mustReq(t testing.TB, method, url string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// denyOnly leaves user with every right but right.
func (e *env) denyOnly(t testing.TB, user, right string) {
	t.Helper()
	u, ok := e.users.Lookup(user)
	if !ok {
		t.Fatalf("no user %s", user)
	}
	r, ok := accounts.ParseRight(right)
	if !ok {
		t.Fatalf("no right %s", right)
	}
	u.Deny = accounts.Rights(r)
	if err := e.users.Upsert(u); err != nil {
		t.Fatal(err)
	}
}

// A long content is cut as Jasmin cuts it: 153 septets a part with an
// 8-bit-reference UDH (or the sar_* TLVs), admitted and charged whole with
// its first part, registered_delivery on the last part only, whose id is
// the answer; beyond long_content_max_parts it is refused.
func TestSendLongContent(t *testing.T) {
	for _, split := range []content.Method{content.UDH, content.SAR} {
		e := newEnv(t, func(o *Options) { o.Split = split })
		text := strings.Repeat("0123456789", 40) // 400 septets: 3 parts of 153
		a := e.postJSON("alice", map[string]any{"to": "33600000000", "content": text, "dlr": "yes"})
		var it item
		a.decode(t, &it)
		if a.status != 200 || len(it.Parts) != 3 || it.ID != it.Parts[2] {
			t.Fatalf("split %d: %d %s", split, a.status, a.body)
		}
		for i, id := range it.Parts {
			r := e.record(id)
			wantParts, wantCharge, wantRD := uint8(0), int64(0), uint8(0)
			if i == 0 {
				wantParts, wantCharge = 3, 1_500_000
			}
			if i == 2 {
				wantRD = 1
			}
			wantESM := byte(0)
			if split == content.UDH {
				wantESM = codec.ESMClassUDHI
			}
			if r.Parts != wantParts || r.Charge != wantCharge || r.RegisteredDelivery != wantRD || r.ESMClass != wantESM ||
				string(r.TextPrefix()) != text[i*153:i*153+20] {
				t.Errorf("split %d part %d: %+v", split, i, r)
			}
		}
		id := e.get("/send", sendQuery("alice", "content", strings.Repeat("a", 765))).successID(t) // 5 parts
		if r := e.record(id); r.Parts != 0 {
			t.Errorf("last of 5 parts: %+v", r)
		}
		e.get("/send", sendQuery("alice", "content", strings.Repeat("a", 766))).
			want(t, 400, `Error "Content needs 6 parts, more than long_content_max_parts (5)."`)
		// UCS2 as hex-content: 67 units a part.
		hexText := strings.Repeat("0041", 100)
		e.get("/send", sendQuery("alice", "content", "\x00", "coding", "8", "hex-content", hexText)).successID(t)
		var bal map[string]any
		e.get("/balance", url.Values{"username": {"alice"}, "password": {"alicepw"}}).decode(t, &bal)
		if bal["balance"] != 100-0.5*(3+5+2) {
			t.Errorf("split %d: balance %v", split, bal["balance"])
		}
	}
}

// A long message is admitted whole: a user whose bucket holds 3 parts
// sends a 3-part message, and the next is refused with nothing queued.
func TestLongContentAdmittedWhole(t *testing.T) {
	e := newEnv(t)
	before := e.core.Store.Len()
	text := strings.Repeat("x", 400)
	e.get("/send", sendQuery("carol", "content", text)).successID(t)
	if n := e.core.Store.Len() - before; n != 3 {
		t.Fatalf("%d records after a 3-part message", n)
	}
	e.get("/send", sendQuery("carol", "content", text)).want(t, 403, `Error "User throughput exceeded"`)
	if n := e.core.Store.Len() - before; n != 3 {
		t.Errorf("%d records after a refused message, want 3", n)
	}
}

// dlr-url: the callback is stored for the last part's id before it is
// submitted, with its level and method.
func TestSendDLRURL(t *testing.T) {
	e := newEnv(t)
	id := e.get("/send", sendQuery("alice", "dlr-url", "http://127.0.0.1:9/dlr", "dlr-level", "3", "dlr-method", "GET")).successID(t)
	mid, _ := msg.ParseID([]byte(id))
	var cb storage.Callback
	if err := e.core.Store.Callbacks().Callback(mid, &cb); err != nil || cb.URL != "http://127.0.0.1:9/dlr" ||
		cb.Level != 3 || cb.Method != storage.CallbackGET {
		t.Errorf("callback %+v %v", cb, err)
	}
	if r := e.record(id); r.RegisteredDelivery != 1 {
		t.Errorf("level 3: registered_delivery %d", r.RegisteredDelivery)
	}
	id = e.get("/send", sendQuery("alice", "dlr-url", "https://127.0.0.1:9/x")).successID(t)
	if r := e.record(id); r.RegisteredDelivery != 0 {
		t.Errorf("level 1 alone: registered_delivery %d", r.RegisteredDelivery)
	}
	noCB := newEnv(t, func(o *Options) { o.Callbacks = nil })
	noCB.get("/send", sendQuery("alice", "dlr-url", "http://127.0.0.1:9/dlr")).want(t, 400, `Error "dlr-url is not supported by this server."`)
}

func TestBalanceRatePing(t *testing.T) {
	e := newEnv(t)
	e.get("/ping", nil).want(t, 200, "Jasmin/PONG")
	cred := func(user string) url.Values { return url.Values{"username": {user}, "password": {user + "pw"}} }
	e.get("/balance", cred("frank")).want(t, 200, `{"balance":"ND","sms_count":2}`)
	e.get("/balance", cred("dave")).want(t, 200, `{"balance":0.4,"sms_count":"ND"}`)
	e.get("/balance", url.Values{"username": {"dave"}, "password": {"x"}}).want(t, 403, `"Authentication failure for username:dave"`)
	e.get("/balance", cred("bob")).want(t, 400, `"Authorization failed for user [bob] (Cannot check balance)."`)
	e.get("/balance", url.Values{"username": {"dave"}, "password": {"davepw"}, "to": {"1"}}).want(t, 400, `"Argument [to] is unknown."`)
	rate := func(kv ...string) url.Values {
		q := cred("alice")
		q.Set("to", "33612345678")
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	e.get("/rate", rate()).want(t, 200, `{"unit_rate":0.5,"submit_sm_count":1}`)
	e.get("/rate", rate("content", strings.Repeat("z", 161))).want(t, 200, `{"unit_rate":0.5,"submit_sm_count":2}`)
	e.get("/rate", rate("to", "1234")).want(t, 412, `"No route found"`)
	e.get("/rate", rate("dlr", "yes")).want(t, 400, `"Argument [dlr] is unknown."`)
	q := rate()
	q.Set("username", "bob")
	q.Set("password", "bobpw")
	e.get("/rate", q).want(t, 400, `"Authorization failed for user [bob] (Cannot check rate)."`)
	var v map[string]any
	if err := json.Unmarshal([]byte(e.get("/rate", rate("coding", "8", "hex-content", strings.Repeat("00", 142))).body), &v); err != nil || v["submit_sm_count"] != 2.0 {
		t.Errorf("rate of 142 UCS2 octets: %v %v", v, err)
	}
}
