package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/internal/admintest"
	"github.com/smppd/smppd/internal/coretest"
	"github.com/smppd/smppd/internal/smpptest"
)

// msgEnv is an admintest core whose admin API looks messages up through
// a real cdr.Lookup and CDR stream on the core's store.
func msgEnv(t *testing.T) (*admintest.Env, *cdr.Stream) {
	t.Helper()
	var stream *cdr.Stream
	e := admintest.Start(t, admintest.Spec{Messages: func(c *coretest.Core) admin.MessageLookup {
		s, err := cdr.Open(cdr.Options{Dir: t.TempDir(), Messages: c.Store, Logger: zerolog.Nop()})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() { _ = s.Close() })
		stream = s
		return cdr.NewLookup(cdr.LookupOptions{Messages: c.Store, UpstreamIDs: c.Store,
			Connectors: []string{"sim1", "sim2"}, Stream: s})
	}})
	return e, stream
}

// submitTo sends alice's submit_sm to dst and returns its id.
func submitTo(t *testing.T, c *smpptest.Client, dst, text string) string {
	t.Helper()
	if err := c.Send(codec.SubmitSMID, 0, c.NextSeq(), smpptest.SubmitBody("ACME", dst, text)); err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.Expect(admintestWait, codec.SubmitSMRespID, codec.StatusOK)
	if err != nil {
		t.Fatal(err)
	}
	var r codec.SubmitSMResp
	if err := r.Decode(resp[codec.HeaderLen:]); err != nil {
		t.Fatal(err)
	}
	return string(r.MessageID)
}

func TestMsgCommands(t *testing.T) {
	e, _ := msgEnv(t)
	c := e.Bind(t, codec.BindTransceiverID, "alice", admintest.AlicePassword)
	var ids []string
	for i := range 3 {
		ids = append(ids, submitTo(t, c, "+4917012345678", "hello "+string(rune('a'+i))))
	}
	other := submitTo(t, c, "4915100000", "other")

	// show: the message's fields, by id; final once the simulator's
	// outcome (drawn at acceptance, receipts at once) is in.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := ok(t, e, []string{"id:", ids[0], "user:", "alice", "destination:", "+4917012345678", "route:", "main", "connector:"}, "msg", "show", ids[0])
		if strings.Contains(out, "DELIVERED") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("msg show never showed the final state:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := ok(t, e, nil, "--json", "msg", "show", ids[1])
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil || m["id"] != ids[1] || m["text"] != "hello b" {
		t.Fatalf("msg show --json: %v %s", err, out)
	}
	fails(t, e, 1, "not_found", "msg", "show", "00000000000000ff")
	fails(t, e, 1, "bad_request", "msg", "show", "nothex")
	fails(t, e, 2, "want 1 argument(s)", "msg", "show")

	// find: newest first, paged, the other number left out.
	out = ok(t, e, []string{"ID", "DESTINATION", ids[2], ids[1], "more: smppctl msg find --to 4917012345678 --cursor"},
		"msg", "find", "--to", "4917012345678", "--limit", "2")
	if strings.Contains(out, ids[0]) || strings.Index(out, ids[2]) > strings.Index(out, ids[1]) {
		t.Fatalf("first page of 2:\n%s", out)
	}
	out = ok(t, e, []string{ids[0], ids[1], ids[2]}, "msg", "find", "--to", "+4917012345678", "--limit", "1", "--all")
	if strings.Contains(out, other) || strings.Contains(out, "more:") {
		t.Fatalf("find --all:\n%s", out)
	}
	out = ok(t, e, nil, "--json", "msg", "find", "--to", "4917012345678", "--since", "1h")
	var page struct {
		Messages []map[string]any `json:"messages"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || len(page.Messages) != 3 {
		t.Fatalf("find --json --since 1h: %v %s", err, out)
	}
	fails(t, e, 2, "--to is required", "msg", "find")
	fails(t, e, 1, "bad_request", "msg", "find", "--to", "49x")
	fails(t, e, 1, "bad_request", "msg", "find", "--to", "49", "--since", "yesterday")

	// erase: asks for --yes, then takes the records and the CDR lines.
	fails(t, e, 2, "add --yes", "msg", "erase", "+4917012345678")
	ok(t, e, []string{"records erased: 3", "CDR lines removed:"}, "msg", "erase", "+4917012345678", "--yes")
	if out = ok(t, e, nil, "msg", "find", "--to", "4917012345678"); strings.Contains(out, ids[0]) {
		t.Fatalf("find after the erasure:\n%s", out)
	}
	fails(t, e, 1, "not_found", "msg", "show", ids[0])
	ok(t, e, []string{other}, "msg", "show", other)
	ok(t, e, []string{"msg", "find", "erase"}, "msg", "--help")
}

func TestMsgWithoutLookup(t *testing.T) {
	e := admintest.Start(t, admintest.Spec{})
	fails(t, e, 1, "unavailable", "msg", "show", "0000000000000001")
}
