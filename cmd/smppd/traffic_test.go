package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/smpptest"
	"github.com/smppd/smppd/storage"
)

// call asks the admin API and decodes a JSON answer into out (nil: not
// decoded).
func call(t *testing.T, method, url string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	must(t, err)
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	must(t, err)
	if out != nil && res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
	return res.StatusCode
}

type heldList struct {
	Total int `json:"total"`
	Held  []struct {
		Key      string `json:"key"`
		Kind     string `json:"kind"`
		SystemID string `json:"system_id"`
		Leased   bool   `json:"leased"`
		Attempts int    `json:"attempts"`
		Body     string `json:"body_hex"`
	} `json:"held"`
}

type deadList struct {
	Total       int `json:"total"`
	DeadLetters []struct {
		Key  string `json:"key"`
		Kind string `json:"kind"`
	} `json:"dead_letters"`
}

// TestTrafficTools: an MO held for an unbound user is listed, inspected,
// retried (still held: no receiver) and purged; an MO dead letter is
// retried through the MO routes to a bound user and leaves the list; a
// receipt's is refused a retry and purged; each action is in the audit
// log under its route.
func TestTrafficTools(t *testing.T) {
	d, _, _, adminPort := startDemo(t)
	api := "http://127.0.0.1:" + strconv.Itoa(adminPort)

	res, err := http.Post(api+"/v1/mo", "application/json",
		strings.NewReader(`{"source_addr":"4917000","destination_addr":"1234","short_message":"held for demo","system_id":"demo"}`))
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /v1/mo: %s", res.Status)
	}
	var hl heldList
	if st := call(t, "GET", api+"/v1/held?kind=mo&system_id=demo", &hl); st != 200 || hl.Total != 1 || len(hl.Held) != 1 {
		t.Fatalf("GET /v1/held: %d %+v", st, hl)
	}
	key := hl.Held[0].Key
	if hl.Held[0].SystemID != "demo" || hl.Held[0].Leased || hl.Held[0].Body != "" {
		t.Fatalf("held item %+v", hl.Held[0])
	}
	var one struct {
		Body string `json:"body_hex"`
	}
	if st := call(t, "GET", api+"/v1/held/"+key, &one); st != 200 || !strings.Contains(one.Body, "68656c6420666f722064656d6f") { // "held for demo"
		t.Fatalf("GET /v1/held/%s: %d %q", key, st, one.Body)
	}
	if st := call(t, "POST", api+"/v1/held/"+key+"/retry", nil); st != 200 {
		t.Fatalf("retry: %d", st)
	}
	if st := call(t, "POST", api+"/v1/held/99999999/retry", nil); st != 404 {
		t.Fatalf("retry of no item: %d", st)
	}
	time.Sleep(100 * time.Millisecond) // the background round offers it: no receiver, held again
	if st := call(t, "GET", api+"/v1/held?kind=mo", &hl); st != 200 || hl.Total != 1 || hl.Held[0].Key != key {
		t.Fatalf("after a retry with no receiver: %d %+v", st, hl)
	}
	// 409 while the background round has it leased (offering it to no
	// receiver): a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := call(t, "DELETE", api+"/v1/held/"+key, nil)
		if st == 200 {
			break
		}
		if st != 409 || time.Now().After(deadline) {
			t.Fatalf("purge: %d", st)
		}
	}
	if st := call(t, "GET", api+"/v1/held", &hl); st != 200 || hl.Total != 0 {
		t.Fatalf("after the purge: %d %+v", st, hl)
	}

	// An MO the routes could not place once, delivered now to a bound demo.
	c, bst := bindAs(t, d, codec.BindTransceiverID, "demo", "demopass")
	if bst != codec.StatusOK {
		t.Fatalf("bind: %v", bst)
	}
	now := time.Now().UnixNano()
	must(t, d.store.DeadLetters().Add(&storage.DeadLetter{Kind: storage.HeldMO, Connector: -1, Reason: "no MO route",
		Body: smpptest.SubmitBody("4917001", "1234", "from the dead"), At: now}))
	must(t, d.store.DeadLetters().Add(&storage.DeadLetter{Kind: storage.HeldReceipt, Connector: 0, Reason: "unknown id",
		Body: smpptest.SubmitBody("4917002", "1234", "id:x"), At: now + 1}))
	var dl deadList
	if st := call(t, "GET", api+"/v1/dead-letters", &dl); st != 200 || dl.Total != 2 || dl.DeadLetters[1].Key != strconv.FormatInt(now, 10) {
		t.Fatalf("GET /v1/dead-letters: %d %+v", st, dl)
	}
	if st := call(t, "POST", api+"/v1/dead-letters/"+strconv.FormatInt(now, 10)+"/retry", nil); st != 200 {
		t.Fatalf("dead letter retry: %d", st)
	}
	if mo := expectDeliver(t, c); string(mo.ShortMessage) != "from the dead" || string(mo.SourceAddr) != "4917001" {
		t.Fatalf("retried MO %+v", mo)
	}
	rk := strconv.FormatInt(now+1, 10)
	if st := call(t, "POST", api+"/v1/dead-letters/"+rk+"/retry", nil); st != 422 {
		t.Fatalf("receipt retry: %d, want 422", st)
	}
	if st := call(t, "DELETE", api+"/v1/dead-letters/"+rk, nil); st != 200 {
		t.Fatalf("dead letter purge: %d", st)
	}
	if st := call(t, "DELETE", api+"/v1/dead-letters/"+rk, nil); st != 404 {
		t.Fatalf("second purge: %d, want 404", st)
	}
	if st := call(t, "GET", api+"/v1/dead-letters", &dl); st != 200 || dl.Total != 0 {
		t.Fatalf("after retry and purge: %d %+v", st, dl)
	}

	var ql struct {
		Queues []struct {
			Connector string `json:"connector"`
			Up        bool   `json:"up"`
		} `json:"queues"`
	}
	if st := call(t, "GET", api+"/v1/queues", &ql); st != 200 || len(ql.Queues) != 1 || ql.Queues[0].Connector != "sim" || !ql.Queues[0].Up {
		t.Fatalf("GET /v1/queues: %d %+v", st, ql)
	}
	if st := call(t, "POST", api+"/v1/queues/sim/purge", nil); st != 200 {
		t.Fatalf("queue purge: %d", st)
	}
	if st := call(t, "POST", api+"/v1/queues/nosuch/purge", nil); st != 404 {
		t.Fatalf("purge of no connector: %d, want 404", st)
	}

	var audit struct {
		Entries []struct {
			Route  string `json:"route"`
			Status int    `json:"status"`
		} `json:"entries"`
	}
	if st := call(t, "GET", api+"/v1/audit?limit=100", &audit); st != 200 {
		t.Fatalf("GET /v1/audit: %d", st)
	}
	want := map[string]int{"POST /v1/held/{key}/retry": 2,
		"POST /v1/dead-letters/{key}/retry": 2, "DELETE /v1/dead-letters/{key}": 2, "POST /v1/queues/{name}/purge": 2}
	purges := 0
	for _, e := range audit.Entries {
		if e.Route == "DELETE /v1/held/{key}" && e.Status == 200 {
			purges++
		}
		if _, ok := want[e.Route]; ok {
			want[e.Route]--
		}
	}
	if purges != 1 {
		t.Errorf("audit: %d successful held purges, want 1", purges)
	}
	for route, n := range want {
		if n != 0 {
			t.Errorf("audit: %s off by %d (entries %+v)", route, n, audit.Entries)
		}
	}
}
