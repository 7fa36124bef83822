package webhook

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
	"github.com/smppd/smppd/storage/memory"
)

// BenchmarkCallbacks sends receipt callbacks (POST, Jasmin's level-2 size
// of parameters, "ACK/Jasmin" required) to one receiver on the loopback in
// the same process, MaxPerTarget requests in flight, each one held in and
// acknowledged from the store: memory, and disk with sync = interval and
// with sync = always (the default). Requests go through the address guard
// as in production (the default deny list, loopback allowed). The
// receiver is net/http's server, or (raw) a minimal keep-alive HTTP/1.1
// responder, so the figure is mostly the sender's. callbacks/s is what the
// receiver took; conns the connections it accepted (keep-alive: at most
// per_target).
func BenchmarkCallbacks(b *testing.B) {
	for _, recv := range []string{"raw", "nethttp"} {
		for _, kind := range []string{"memory", "disk", "disk-always"} {
			for _, conc := range []int{16, 64} {
				b.Run(recv+"/"+kind+"/per_target="+strconv.Itoa(conc), func(b *testing.B) { benchCallbacks(b, recv, kind, conc) })
			}
		}
	}
}

func benchCallbacks(b *testing.B, recv, kind string, conc int) {
	var conns atomic.Int64
	target := rawReceiver(b, &conns)
	if recv == "nethttp" {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("ACK/Jasmin"))
		}))
		srv.Config.ConnState = func(_ net.Conn, cs http.ConnState) {
			if cs == http.StateNew {
				conns.Add(1)
			}
		}
		srv.Start()
		defer srv.Close()
		target = srv.URL
	}
	var st storage.Store
	if kind == "memory" {
		st = memory.New(memory.Options{MaxHeld: 1 << 20})
	} else {
		sync := wal.SyncInterval
		if kind == "disk-always" {
			sync = wal.SyncAlways
		}
		d, err := disk.Open(disk.Options{Dir: b.TempDir(), Sync: sync, MaxHeld: 1 << 20})
		if err != nil {
			b.Fatal(err)
		}
		st = d
	}
	defer st.Close()
	deny, _ := netguard.ParsePrefixes(netguard.DefaultDeny)
	allow, _ := netguard.ParsePrefixes([]string{"127.0.0.0/8"})
	s, err := New(Options{Holds: st.Holds(), DeadLetters: st.DeadLetters(), MaxPerTarget: conc,
		MaxPending: 1 << 20, MaxPendingPerTarget: 1 << 20, Guard: netguard.New(deny, allow), Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(); err != nil {
		b.Fatal(err)
	}
	defer stop(s)
	params := []byte("connector=smsc-a&dlvrd=001&donedate=2603040509&err=000&id=00000000deadbeef&id_smsc=UP-1234567890" +
		"&level=2&message_status=DELIVRD&sub=001&subdate=2603040506&text=Hello+from+smppd%2C+th")
	r := Request{Kind: KindReceipt, URL: target + "/dlr", AckBody: "ACK/Jasmin", SystemID: "alice", Params: params}
	b.ReportAllocs()
	b.ResetTimer()
	t0 := time.Now()
	for i := range b.N {
		for s.Pending() >= 50000 { // bounded like production: wait for room
			time.Sleep(time.Millisecond)
		}
		r.ID = 0x1000 + msgID(i)
		if err := s.Enqueue(&r); err != nil {
			b.Fatal(err)
		}
	}
	for s.Stats().Receipts.Sent < uint64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(t0).Seconds(), "callbacks/s")
	b.ReportMetric(float64(conns.Load()), "conns")
	if st := s.Stats(); st.Receipts.Retried != 0 || st.Receipts.Refused != 0 {
		b.Fatalf("retried or refused callbacks: %+v", st.Receipts)
	}
}

func msgID(i int) msg.ID { return msg.ID(i) }

// rawReceiver serves every request on a keep-alive connection with
// 200 "ACK/Jasmin": request line and headers read to the blank line, the
// body skipped by its Content-Length. Just enough HTTP/1.1 for the
// sender; it costs a fraction of net/http's server.
func rawReceiver(b *testing.B, conns *atomic.Int64) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	const answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Type: text/plain\r\n\r\nACK/Jasmin"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				rd, wr := bufio.NewReader(c), bufio.NewWriter(c)
				for {
					n := 0
					for {
						line, err := rd.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
						if v, ok := bytes.CutPrefix(bytes.ToLower(line), []byte("content-length:")); ok {
							n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
						}
					}
					if _, err := rd.Discard(n); err != nil {
						return
					}
					wr.WriteString(answer)
					if rd.Buffered() == 0 {
						if wr.Flush() != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
