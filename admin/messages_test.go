package admin

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/memory"
)

// lookupEnv is a memory store with n records to 4917000001 (ids 1..n)
// and one to 4917000002 (id 1000), behind a real cdr.Lookup and stream.
func lookupEnv(t *testing.T, n int) (*memory.Store, *cdr.Lookup) {
	t.Helper()
	st := memory.New(memory.Options{MaxRecords: 1 << 12})
	put := func(id uint64, dst string) {
		r := storage.Record{ID: msg.ID(id), SystemID: "alice", State: msg.StateEnroute, Connector: 0,
			Submitted: time.Now().Add(time.Duration(id) * time.Millisecond).UnixNano(), Parts: 1}
		r.SetAddrs([]byte("ACME"), []byte(dst), []byte("hello"))
		if err := st.Put(&r); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		put(uint64(i), "4917000001")
	}
	put(1000, "4917000002")
	s, err := cdr.Open(cdr.Options{Dir: t.TempDir(), Messages: st, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return st, cdr.NewLookup(cdr.LookupOptions{Messages: st, UpstreamIDs: st, Connectors: []string{"sim"}, Stream: s})
}

func TestGetMessage(t *testing.T) {
	_, l := lookupEnv(t, 3)
	base := start(t, Options{Messages: l})
	st, m := do(t, "GET", base+"/v1/messages/"+msg.ID(2).String(), "", "")
	if st != 200 || m["id"] != msg.ID(2).String() || m["destination"] != "4917000001" || m["connector"] != "sim" ||
		m["state"] != "ENROUTE" || m["v"] != 1.0 {
		t.Fatalf("GET by hex id: %d %v", st, m)
	}
	if st, m = do(t, "GET", base+"/v1/messages/2", "", ""); st != 200 || m["id"] != msg.ID(2).String() {
		t.Fatalf("GET by decimal id: %d %v", st, m)
	}
	if st, m = do(t, "GET", base+"/v1/messages/"+msg.ID(77).String(), "", ""); st != 404 || errCode(m) != "not_found" {
		t.Fatalf("unknown id: %d %v", st, m)
	}
	if st, m = do(t, "GET", base+"/v1/messages/zz!", "", ""); st != 400 || errCode(m) != "bad_request" {
		t.Fatalf("bad id: %d %v", st, m)
	}
	if st, m = do(t, "GET", start(t, Options{})+"/v1/messages/1", "", ""); st != 503 {
		t.Fatalf("no lookup wired: %d %v", st, m)
	}
}

func TestFindMessagesPages(t *testing.T) {
	_, l := lookupEnv(t, 7)
	base := start(t, Options{Messages: l})
	var seen []string
	url := base + "/v1/messages?to=%2B4917000001&limit=3"
	for pages := 0; ; pages++ {
		if pages > 4 {
			t.Fatal("paging does not end")
		}
		st, m := do(t, "GET", url, "", "")
		if st != 200 {
			t.Fatalf("GET %s: %d %v", url, st, m)
		}
		for _, o := range m["messages"].([]any) {
			seen = append(seen, o.(map[string]any)["id"].(string))
		}
		next, _ := m["next"].(string)
		if next == "" {
			break
		}
		url = base + "/v1/messages?to=4917000001&limit=3&cursor=" + next
	}
	if len(seen) != 7 || seen[0] != msg.ID(7).String() || seen[6] != msg.ID(1).String() {
		t.Fatalf("pages gave %v, want ids 7..1 once each", seen)
	}
	since := time.Now().Add(5 * time.Millisecond).Format(time.RFC3339Nano)
	if st, m := do(t, "GET", base+"/v1/messages?to=4917000001&since="+since, "", ""); st != 200 || len(m["messages"].([]any)) >= 7 {
		t.Fatalf("since filters nothing: %d %v", st, m)
	}
	for _, q := range []string{"to=abc", "to=", "to=4917&limit=0", "to=4917&limit=" + strconv.Itoa(maxFind+1), "to=4917&since=yesterday", "to=4917&cursor=x"} {
		if st, m := do(t, "GET", base+"/v1/messages?"+q, "", ""); st != 400 || errCode(m) != "bad_request" {
			t.Fatalf("?%s: %d %v, want 400", q, st, m)
		}
	}
}

func TestEraseNumber(t *testing.T) {
	st, l := lookupEnv(t, 4)
	base := start(t, Options{Messages: l})
	code, m := do(t, "POST", base+"/v1/messages/erase", "", `{"number":"+4917000001"}`)
	if code != 202 || m["records_erased"] != 4.0 || m["cdr_lines"] != "erasing" {
		t.Fatalf("erase: %d %v", code, m)
	}
	if n, _ := st.Find(&storage.Query{Addr: []byte("4917000001")}, make([]storage.Record, 10)); n != 0 {
		t.Fatalf("%d records left of the erased number", n)
	}
	var rec storage.Record
	if err := st.Get(1000, &rec); err != nil {
		t.Fatalf("another number's record went: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, m = do(t, "GET", base+"/v1/messages/erase", "", "")
		if code == 200 && m["running"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("erase status: %d %v", code, m)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, m = do(t, "POST", base+"/v1/messages/erase", "", `{"number":"49x"}`); code != 400 {
		t.Fatalf("bad number: %d %v", code, m)
	}
	if code, m = do(t, "POST", base+"/v1/messages/erase", "", `{"number":"1","extra":1}`); code != 400 {
		t.Fatalf("unknown field: %d %v", code, m)
	}
}

func TestLogPrivacyMasksInjectedMONumbers(t *testing.T) {
	var logs bytes.Buffer
	s := New(Options{Addr: "127.0.0.1:0", MO: &fakeMO{}, LogPrivacy: true, Logger: zerolog.New(&logs)})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(t.Context()) })
	body := `{"source_addr":"+4917012345678","destination_addr":"4915198765432","short_message":"hi"}`
	if code, m := do(t, "POST", "http://"+s.Addr().String()+"/v1/mo", "", body); code != 202 {
		t.Fatalf("inject: %d %v", code, m)
	}
	out := logs.String()
	if strings.Contains(out, "4917012345678") || strings.Contains(out, "4915198765432") {
		t.Fatalf("a number is in the log: %s", out)
	}
	if !strings.Contains(out, `"source_addr":"+49********678"`) || !strings.Contains(out, `"destination_addr":"491*******432"`) {
		t.Fatalf("masked numbers missing from the log: %s", out)
	}
}
