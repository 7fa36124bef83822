package bench

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
)

func TestIdleAgainstRawCeiling(t *testing.T) {
	addr := startRaw(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Idle(ctx, IdleConfig{Addr: addr, SystemID: "bench", Password: "pw", Bind: BindTransceiver,
		Sessions: 50, Parallel: 8, OnBound: func(int, int, time.Duration) { cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bound != 50 || res.Failed != 0 || res.Dropped != 0 || len(res.Errors) != 0 {
		t.Fatalf("result %+v", res)
	}
}

// idleSMSC accepts `accept` binds and refuses the rest. It sends every
// bound session an enquire_link, and the first one an unbind too, and
// reports each answer on got.
func idleSMSC(t *testing.T, accept int, got chan<- codec.CommandID) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func(c net.Conn, n int) {
				defer wg.Done()
				defer c.Close()
				pdu := func() (codec.Header, bool) {
					var b [256]byte
					if _, err := io.ReadFull(c, b[:codec.HeaderLen]); err != nil {
						return codec.Header{}, false
					}
					l := int(binary.BigEndian.Uint32(b[:]))
					if l < codec.HeaderLen || l > len(b) {
						return codec.Header{}, false
					}
					if _, err := io.ReadFull(c, b[codec.HeaderLen:l]); err != nil {
						return codec.Header{}, false
					}
					h, _ := codec.ParseHeader(b[:l])
					return h, true
				}
				send := func(h codec.Header) { _, _ = c.Write(codec.AppendHeaderOnly(nil, h)) }
				h, ok := pdu()
				if !ok {
					return
				}
				if n >= accept {
					send(codec.Header{CommandID: h.CommandID.Response(), Status: codec.StatusBindFail, Sequence: h.Sequence})
					return
				}
				send(codec.Header{CommandID: h.CommandID.Response(), Sequence: h.Sequence})
				send(codec.Header{CommandID: codec.EnquireLinkID, Sequence: 7})
				if n == 0 {
					send(codec.Header{CommandID: codec.UnbindID, Sequence: 8})
				}
				for {
					h, ok := pdu()
					if !ok {
						return
					}
					got <- h.CommandID
				}
			}(c, n)
		}
	}()
	return ln.Addr().String()
}

func TestIdleAnswersAndCounts(t *testing.T) {
	const bound = 3
	got := make(chan codec.CommandID, 64)
	addr := idleSMSC(t, bound, got)
	res, err := Idle(context.Background(), IdleConfig{Addr: addr, SystemID: "bench", Password: "pw",
		Sessions: 5, Parallel: 1, Hold: time.Nanosecond,
		OnBound: func(int, int, time.Duration) {
			// Hold until every bound session answered its enquire_link and
			// the first one its unbind.
			enq, unb := 0, 0
			for enq < bound || unb < 1 {
				switch <-got {
				case codec.EnquireLinkRespID:
					enq++
				case codec.UnbindRespID:
					unb++
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bound != bound || res.Failed != 2 || res.Dropped != 1 || res.EnquireLinks != bound {
		t.Fatalf("result %+v", res)
	}
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "bind refused") {
		t.Fatalf("errors %q", res.Errors)
	}
}

func TestIdleFirstBindFails(t *testing.T) {
	addr := idleSMSC(t, 0, make(chan codec.CommandID, 1))
	if _, err := Idle(context.Background(), IdleConfig{Addr: addr, Sessions: 2}); err == nil {
		t.Fatal("a refused first bind was not an error")
	}
}
