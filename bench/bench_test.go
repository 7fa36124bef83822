package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/smppd/smppd/bench/peers/raw/rawsmsc"
	"github.com/smppd/smppd/codec"
)

func startRaw(t *testing.T) string {
	t.Helper()
	s, err := rawsmsc.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.Addr()
}

func checkLatency(t *testing.T, name string, l Latency, want int64) {
	t.Helper()
	if l.Count != want {
		t.Fatalf("%s: %d latencies recorded, want %d", name, l.Count, want)
	}
	if l.P50 <= 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.P999 || l.P999 > l.Max*1.001 {
		t.Fatalf("%s: percentiles not populated or not ordered: %+v", name, l)
	}
}

func TestRunAgainstRawCeiling(t *testing.T) {
	addr := startRaw(t)
	for _, mix := range []string{"gsm7", "gsm7:70,ucs2:20,long:10"} {
		res, err := Run(context.Background(), Config{
			Addr: addr, SystemID: "bench", Password: "pw", Sessions: 2, Window: 10, Count: 2000, Mix: mix,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Bound != 2 || len(res.SessionErrors) != 0 {
			t.Fatalf("%s: bound %d, errors %v", mix, res.Bound, res.SessionErrors)
		}
		if res.Submitted != 2000 || res.Responses != 2000 || res.OK != 2000 || res.Unanswered != 0 {
			t.Fatalf("%s: submitted %d responses %d ok %d unanswered %d", mix, res.Submitted, res.Responses, res.OK, res.Unanswered)
		}
		if res.Errors+res.Throttled+res.GenericNacks != 0 || res.Statuses != nil {
			t.Fatalf("%s: unexpected errors %+v", mix, res)
		}
		if res.Elapsed <= 0 || res.SubmitRate <= 0 {
			t.Fatalf("%s: elapsed %v rate %v", mix, res.Elapsed, res.SubmitRate)
		}
		checkLatency(t, mix, res.SubmitResp, 2000)
		if res.SubmitReceipt.Count != 0 {
			t.Fatalf("%s: receipt latencies without receipts", mix)
		}
		b, err := json.Marshal(res)
		if err != nil || !strings.Contains(string(b), `"p99_9_us"`) {
			t.Fatalf("json: %s %v", b, err)
		}
	}
}

func TestRunAtTargetRateWithWarmup(t *testing.T) {
	addr := startRaw(t)
	res, err := Run(context.Background(), Config{
		Addr: addr, Sessions: 3, Window: 5, Count: 300, Rate: 3000, Warmup: 20e6, Bind: BindTransceiver,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Submitted != 300 || res.OK != 300 {
		t.Fatalf("submitted %d ok %d, want 300 measured after warm-up", res.Submitted, res.OK)
	}
	checkLatency(t, "rate", res.SubmitResp, 300)
}

func TestBindRefused(t *testing.T) {
	addr := serveFake(t, func(c net.Conn, h codec.Header, _ []byte) []byte {
		return codec.AppendHeaderOnly(nil, codec.Header{CommandID: h.CommandID.Response(), Status: codec.StatusInvPaswd, Sequence: h.Sequence})
	})
	_, err := Run(context.Background(), Config{Addr: addr, Sessions: 2, Count: 10})
	if err == nil || !strings.Contains(err.Error(), "ESME_RINVPASWD") {
		t.Fatalf("err = %v, want a bind refusal naming ESME_RINVPASWD", err)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{Addr: "x", Sessions: 0, Window: 1, Count: 1},
		{Addr: "x", Sessions: 1, Window: 0, Count: 1},
		{Addr: "x", Sessions: 1, Window: MaxWindow + 1, Count: 1},
		{Addr: "x", Sessions: 1, Window: 1},
		{Addr: "x", Sessions: 1, Window: 1, Count: 1, Rate: -1},
		{Addr: "x", Sessions: 1, Window: 1, Count: 1, SystemID: "sixteen-chars-xx"},
		{Addr: "x", Sessions: 1, Window: 1, Count: 1, Password: "ninechars"},
		{Addr: "x", Sessions: 1, Window: 1, Count: 1, Receipts: true},
		{Addr: "x", Sessions: 1, Window: 1, Count: 1, Mix: "mms"},
	}
	for i, c := range bad {
		if c.Validate() == nil {
			t.Errorf("config %d (%+v) accepted", i, c)
		}
	}
}

// serveFake runs a test SMSC whose answer to each request is computed by
// answer (nil: no answer); binds are accepted unless answer decides.
func serveFake(t *testing.T, answer func(c net.Conn, h codec.Header, frame []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				for {
					var hb [16]byte
					if _, err := io.ReadFull(c, hb[:]); err != nil {
						return
					}
					h, _ := codec.ParseHeader(hb[:])
					frame := make([]byte, h.Length)
					copy(frame, hb[:])
					if _, err := io.ReadFull(c, frame[16:]); err != nil {
						return
					}
					if out := answer(c, h, frame); len(out) > 0 {
						if _, err := c.Write(out); err != nil {
							return
						}
					}
					if h.CommandID == codec.UnbindID {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// receiptSMSC answers submit_sm with id "M<n>" and, when registered_delivery
// asks, sends a receipt: with the receipted_message_id TLV when tlv, else
// only in the text. early sends the receipt before the response.
func receiptSMSC(t *testing.T, tlv, early bool) string {
	var mu sync.Mutex
	next := 0
	return serveFake(t, func(c net.Conn, h codec.Header, frame []byte) []byte {
		switch h.CommandID {
		case codec.BindTransceiverID, codec.BindTransmitterID, codec.BindReceiverID:
			r := codec.BindResp{SystemID: []byte("fake")}
			out, _ := r.Append(nil, codec.Header{CommandID: h.CommandID.Response(), Sequence: h.Sequence})
			return out
		case codec.UnbindID, codec.EnquireLinkID:
			return codec.AppendHeaderOnly(nil, codec.Header{CommandID: h.CommandID.Response(), Sequence: h.Sequence})
		case codec.SubmitSMID:
			var sm codec.SM
			if err := sm.Decode(frame[16:]); err != nil {
				t.Errorf("bench sent a bad submit_sm: %v", err)
				return nil
			}
			mu.Lock()
			next++
			n := next
			mu.Unlock()
			id := fmt.Sprintf("M%d", n)
			resp := codec.SubmitSMResp{MessageID: []byte(id)}
			out, _ := resp.Append(nil, codec.Header{CommandID: codec.SubmitSMRespID, Sequence: h.Sequence})
			if sm.RegisteredDelivery&1 == 0 {
				return out
			}
			d := codec.DeliverSM{
				SourceAddr: sm.DestinationAddr, DestinationAddr: sm.SourceAddr,
				ESMClass:     codec.ESMClassDeliveryReceipt,
				ShortMessage: []byte("id:" + id + " sub:001 dlvrd:001 submit date:2601011200 done date:2601011200 stat:DELIVRD err:000 text:x"),
			}
			if tlv {
				d.ShortMessage = []byte("stat:DELIVRD")
				d.TLVs.AddCString(codec.TagReceiptedMessageID, []byte(id))
				d.TLVs.AddUint8(codec.TagMessageState, 2)
			}
			dl, err := d.Append(nil, codec.Header{CommandID: codec.DeliverSMID, Sequence: uint32(0x40000000 + n)})
			if err != nil {
				t.Errorf("building the receipt: %v", err)
				return out
			}
			if early {
				return append(dl, out...)
			}
			return append(out, dl...)
		}
		return nil
	})
}

func TestReceipts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tlv, early bool
	}{
		{"tlv", true, false},
		{"text", false, false},
		{"receipt before response", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := receiptSMSC(t, tc.tlv, tc.early)
			res, err := Run(context.Background(), Config{
				Addr: addr, Bind: BindTransceiver, Sessions: 2, Window: 10, Count: 500, Receipts: true,
				Mix: "gsm7:1,ucs2:1,long:1",
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.SessionErrors) != 0 {
				t.Fatalf("session errors: %v", res.SessionErrors)
			}
			if res.OK != 500 || res.DeliverSM != 500 || res.ReceiptsOK != 500 || res.ReceiptsLost != 0 || res.ReceiptsOther != 0 {
				t.Fatalf("ok %d deliver_sm %d matched %d lost %d unmatched %d", res.OK, res.DeliverSM, res.ReceiptsOK, res.ReceiptsLost, res.ReceiptsOther)
			}
			checkLatency(t, "submit→resp", res.SubmitResp, 500)
			checkLatency(t, "submit→receipt", res.SubmitReceipt, 500)
		})
	}
}

func TestStatusesCounted(t *testing.T) {
	var mu sync.Mutex
	n := 0
	addr := serveFake(t, func(c net.Conn, h codec.Header, frame []byte) []byte {
		switch h.CommandID {
		case codec.SubmitSMID:
			mu.Lock()
			n++
			k := n % 4
			mu.Unlock()
			switch k {
			case 0:
				return codec.AppendHeaderOnly(nil, codec.Header{CommandID: codec.GenericNackID, Status: codec.StatusSysErr, Sequence: h.Sequence})
			case 1:
				r := codec.SubmitSMResp{}
				out, _ := r.Append(nil, codec.Header{CommandID: codec.SubmitSMRespID, Status: codec.StatusThrottled, Sequence: h.Sequence})
				return out
			case 2:
				return codec.AppendHeaderOnly(nil, codec.Header{CommandID: codec.SubmitSMRespID, Status: codec.StatusInvDstAdr, Sequence: h.Sequence})
			}
			r := codec.SubmitSMResp{MessageID: []byte("1")}
			out, _ := r.Append(nil, codec.Header{CommandID: codec.SubmitSMRespID, Sequence: h.Sequence})
			// An enquire_link of the SMSC's own must be answered.
			return codec.AppendHeaderOnly(out, codec.Header{CommandID: codec.EnquireLinkID, Sequence: 7})
		case codec.EnquireLinkRespID:
			return nil
		}
		return codec.AppendHeaderOnly(nil, codec.Header{CommandID: h.CommandID.Response(), Sequence: h.Sequence})
	})
	res, err := Run(context.Background(), Config{Addr: addr, Sessions: 1, Window: 4, Count: 400})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 100 || res.Throttled != 100 || res.Errors != 100 || res.GenericNacks != 100 || res.EnquireLinks != 100 {
		t.Fatalf("ok %d throttled %d errors %d nacks %d enquire %d", res.OK, res.Throttled, res.Errors, res.GenericNacks, res.EnquireLinks)
	}
	want := map[string]uint64{"ESME_RTHROTTLED": 100, "ESME_RINVDSTADR": 100, "ESME_RSYSERR": 100}
	for k, v := range want {
		if res.Statuses[k] != v {
			t.Fatalf("statuses %v, want %v", res.Statuses, want)
		}
	}
}

func TestCancelStopsRun(t *testing.T) {
	addr := startRaw(t)
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	res, err := Run(ctx, Config{
		Addr: addr, Sessions: 2, Window: 4, Duration: 1 << 62,
		Progress: func(p Progress) {
			if p.Responses > 0 {
				once.Do(cancel)
			}
		},
		ProgressEvery: 1e6,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Unanswered != 0 {
		t.Fatalf("ok %d unanswered %d after cancel", res.OK, res.Unanswered)
	}
}

func TestSMSCClosesMidRun(t *testing.T) {
	addr := serveFake(t, func(c net.Conn, h codec.Header, frame []byte) []byte {
		if h.CommandID == codec.SubmitSMID {
			_ = c.Close()
			return nil
		}
		return codec.AppendHeaderOnly(nil, codec.Header{CommandID: h.CommandID.Response(), Sequence: h.Sequence})
	})
	res, err := Run(context.Background(), Config{Addr: addr, Sessions: 1, Window: 2, Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.SessionErrors) != 1 || res.Unanswered == 0 {
		t.Fatalf("errors %v unanswered %d: a dropped connection must show", res.SessionErrors, res.Unanswered)
	}
}
