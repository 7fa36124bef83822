package flow

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

func BenchmarkHandleSubmit(b *testing.B) {
	th, p := allocHub(b)
	req := engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", "4915112345678", "hello world"), Principal: p.Bind}
	res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
	b.ReportAllocs()
	for b.Loop() {
		res.MessageID = res.MessageID[:0]
		th.HandleSubmit(&req, res)
	}
	if res.Status != codec.StatusOK {
		b.Fatal(res.Status)
	}
}

func BenchmarkHandleSubmitParallel(b *testing.B) {
	th, p := allocHub(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := engine.SubmitRequest{Command: codec.SubmitSMID, SubmitSM: sm("12345", "4915112345678", "hello world"), Principal: p.Bind}
		res := &engine.SubmitResult{MessageID: make([]byte, 0, 65)}
		for pb.Next() {
			res.MessageID = res.MessageID[:0]
			th.HandleSubmit(&req, res)
		}
	})
}

func BenchmarkReceipt(b *testing.B) {
	th, p := allocHub(b)
	for _, c := range th.conns {
		c.auto = false
	}
	r := sm("12345", "4915112345678", "hello world")
	r.RegisteredDelivery = 1
	_, id := th.submit(p, r)
	rc := &msg.Receipt{ID: mustID(b, id), State: msg.StateDelivered, Done: time.Now().UnixNano()}
	b.ReportAllocs()
	for b.Loop() {
		th.Receipt(rc)
	}
}

func BenchmarkMO(b *testing.B) {
	th, _ := allocHub(b)
	mo := &msg.Inbound{Connector: "a", Source: []byte("4917"), Dest: []byte("1234"), ShortMessage: []byte("hello there")}
	b.ReportAllocs()
	for b.Loop() {
		th.MO(mo)
	}
}

func BenchmarkAffinity(b *testing.B) {
	var a affinity
	a.init()
	now := time.Now()
	dst := []byte("4915112345678")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := a.key("alice", dst, uint16(i))
		if _, ok := a.get(k, now); !ok {
			a.put(k, 1, now)
		}
		i++
	}
}
