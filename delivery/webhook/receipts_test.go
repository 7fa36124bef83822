package webhook

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// receiptRecord is a message's Record as the store has it.
func receiptRecord(id msg.ID, sub int64) storage.Record {
	r := storage.Record{ID: id, SystemID: "alice", State: msg.StateEnroute, Connector: 1, Submitted: sub, DataCoding: 0}
	r.SetAddrs([]byte("4917000"), []byte("4917111"), []byte("Hello from smppd, this text is long"))
	return r
}

func receiptFixture(t *testing.T) (*fixture, *receiver) {
	t.Helper()
	rc := newReceiver(t, status(200, "ACK/Jasmin"))
	f := newFixture(t, func(o *Options) {
		o.ConnectorName = func(id int) string { return []string{"sim", "smsc-a"}[id] }
		o.ReceiptAckBody = "ACK/Jasmin"
		o.ReceiptZone = time.UTC
		o.Secrets = SecretsFunc(func(ref string) []byte {
			if ref == UserSecret("alice") {
				return []byte("alice-secret-0123456789")
			}
			return nil
		})
	})
	return f, rc
}

func (f *fixture) putCallback(t *testing.T, id msg.ID, level, method uint8, u string) {
	t.Helper()
	if err := f.store.Callbacks().PutCallback(&storage.Callback{ID: id, Level: level, Method: method, URL: u}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) callbackGone(t *testing.T, id msg.ID) {
	t.Helper()
	var cb storage.Callback
	if err := f.store.Callbacks().Callback(id, &cb); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("callback of %v still kept (%+v, %v)", id, cb, err)
	}
}

// hexID is a message id as submit_sm_resp and /send give it.
func hexID(id msg.ID) string { return string(id.AppendHex(nil)) }

// wantForm checks every expected parameter and that there are no others.
func wantForm(t *testing.T, got url.Values, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, got.Get(k), v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected parameter %s=%q", k, got.Get(k))
		}
	}
}

// TestReceiptLevels: level 1 reports the upstream's answer, level 2 the
// final state with Jasmin's parameters, level 3 both; the callback goes
// once every level asked is sent, and the user's secret signs them.
func TestReceiptLevels(t *testing.T) {
	f, rc := receiptFixture(t)
	sub := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano()
	done := time.Date(2026, 3, 4, 5, 9, 0, 0, time.UTC).UnixNano()

	// Level 1, GET: the answer only.
	f.putCallback(t, 0x11, storage.CallbackAccepted, storage.CallbackGET, rc.url("/dlr?token=x"))
	f.s.Answer(0x11, "alice", 0, 0, []byte("UP-11"))
	h := rc.wait(t, 5*time.Second)
	if h.method != http.MethodGet || h.path != "/dlr" {
		t.Fatalf("level 1 request %s %s", h.method, h.path)
	}
	wantForm(t, h.form, map[string]string{"id": hexID(0x11), "message_status": "ESME_ROK", "level": "1", "connector": "sim", "token": "x"})
	if err := Verify(h.sig, []byte("alice-secret-0123456789"), "GET", h.path, []byte(h.query), time.Now(), ReplayWindow); err != nil {
		t.Fatalf("level 1 signature: %v", err)
	}
	f.callbackGone(t, 0x11)
	rec := receiptRecord(0x11, sub)
	f.s.Final(&rec, msg.StateDelivered, 0, done) // level 1 only: no final callback

	// Level 2, POST: the final state only.
	f.putCallback(t, 0x22, storage.CallbackFinal, storage.CallbackPOST, rc.url("/final"))
	f.s.Answer(0x22, "alice", 1, 0, []byte("UP-22"))
	rec = receiptRecord(0x22, sub)
	rec.Connector = 1
	f.s.Final(&rec, msg.StateUndeliverable, 11, done)
	h = rc.wait(t, 5*time.Second)
	if h.method != http.MethodPost || h.path != "/final" {
		t.Fatalf("level 2 request %s %s", h.method, h.path)
	}
	wantForm(t, h.form, map[string]string{"id": hexID(0x22), "id_smsc": "UP-22", "message_status": "UNDELIV", "level": "2",
		"connector": "smsc-a", "sub": "001", "dlvrd": "000", "subdate": "2603040506", "donedate": "2603040509",
		"err": "011", "text": "Hello from smppd, th"})
	if err := Verify(h.sig, []byte("alice-secret-0123456789"), "POST", "/final", h.body, time.Now(), ReplayWindow); err != nil {
		t.Fatalf("level 2 signature: %v", err)
	}
	f.callbackGone(t, 0x22)

	// Level 3: both, answer first.
	f.putCallback(t, 0x33, storage.CallbackBoth, storage.CallbackPOST, rc.url("/both"))
	f.s.Answer(0x33, "alice", 0, 0, []byte("UP-33"))
	h = rc.wait(t, 5*time.Second)
	wantForm(t, h.form, map[string]string{"id": hexID(0x33), "message_status": "ESME_ROK", "level": "3", "connector": "sim"})
	var cb storage.Callback
	if err := f.store.Callbacks().Callback(0x33, &cb); err != nil || cb.Done != storage.CallbackAccepted {
		t.Fatalf("level 3 after its answer: %+v, %v", cb, err)
	}
	rec = receiptRecord(0x33, sub)
	rec.Connector = 0
	f.s.Final(&rec, msg.StateDelivered, 0, done)
	h = rc.wait(t, 5*time.Second)
	if h.form.Get("message_status") != "DELIVRD" || h.form.Get("dlvrd") != "001" || h.form.Get("level") != "3" ||
		h.form.Get("id_smsc") != "UP-33" {
		t.Fatalf("level 3 final %v", h.form)
	}
	f.callbackGone(t, 0x33)
	f.s.Final(&rec, msg.StateDelivered, 0, done) // a duplicate receipt: nothing more

	// Level 3 with the receipt overtaking the answer, and a refusal.
	f.putCallback(t, 0x44, storage.CallbackBoth, storage.CallbackPOST, rc.url("/both"))
	rec = receiptRecord(0x44, sub)
	f.s.Final(&rec, msg.StateRejected, 0x0b, done)
	h = rc.wait(t, 5*time.Second)
	if h.form.Get("message_status") != "REJECTD" || h.form.Get("id_smsc") != "" {
		t.Fatalf("overtaking final %v", h.form)
	}
	f.s.Answer(0x44, "alice", 0, 0x0b, nil)
	h = rc.wait(t, 5*time.Second)
	if h.form.Get("message_status") != "ESME_RINVDSTADR" || h.form.Get("level") != "3" {
		t.Fatalf("late answer %v", h.form)
	}
	f.callbackGone(t, 0x44)

	// A message without a callback: nothing.
	f.s.Answer(0x55, "alice", 0, 0, nil)
	rec = receiptRecord(0x55, sub)
	f.s.Final(&rec, msg.StateDelivered, 0, done)
	eventually(t, 2*time.Second, "all sent", func() bool { return f.s.Stats().Receipts.Sent == 6 })
	time.Sleep(50 * time.Millisecond)
	if n := rc.count(); n != 6 {
		t.Fatalf("%d callbacks, want 6", n)
	}
}

// TestHooksWithoutCallbackDoNotAllocate: for the messages without a
// callback (every SMPP message), the hooks cost a lookup and nothing else.
func TestHooksWithoutCallbackDoNotAllocate(t *testing.T) {
	f := newFixture(t, nil)
	rec := receiptRecord(0x77, 1)
	up := []byte("UP")
	if n := testing.AllocsPerRun(200, func() {
		f.s.Answer(0x77, "alice", 0, 0, up)
		f.s.Final(&rec, msg.StateDelivered, 0, 2)
	}); n != 0 {
		t.Fatalf("%v allocations per message without a callback", n)
	}
}

// TestAnswerSkipsTheLookupWhileNoneIsKept: the memory store counts its
// callbacks, so while it keeps none the hooks skip the lookup, and once
// one is kept they make its callback.
func TestAnswerSkipsTheLookupWhileNoneIsKept(t *testing.T) {
	f := newFixture(t, nil)
	if f.s.cbCount == nil || !f.s.noCallbacks() {
		t.Fatalf("the memory store's callbacks are not counted (cbCount %v)", f.s.cbCount)
	}
	if err := f.store.Callbacks().PutCallback(&storage.Callback{ID: 0x78, Level: storage.CallbackAccepted, Method: storage.CallbackGET,
		URL: "http://127.0.0.1:1/x"}); err != nil {
		t.Fatal(err)
	}
	if f.s.noCallbacks() {
		t.Fatal("a kept callback is not counted")
	}
	if err := f.store.Callbacks().DeleteCallback(0x78); err != nil {
		t.Fatal(err)
	}
	if !f.s.noCallbacks() {
		t.Fatal("a deleted callback is still counted")
	}
}
