package httpapi

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// BenchmarkSend is GET /send over keep-alive connections against the real
// core (memory store, the simulator), client and server in one process:
// ns/op is one message's CPU on both sides together.
func BenchmarkSend(b *testing.B) {
	e := newEnv(b)
	url := e.url + "/send?" + sendQuery("uma").Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := c.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.HasPrefix(string(body), `Success "`) {
				b.Errorf("%d %s", res.StatusCode, body)
				return
			}
		}
	})
}

// BenchmarkBatch is POST /v1/messages with 1,000 messages a request; ns/op
// is one batch.
func BenchmarkBatch(b *testing.B) {
	e := newEnv(b)
	body := `{"messages":[` + strings.TrimSuffix(strings.Repeat(`{"to":"33600000001","content":"a batch message"},`, MaxBatch), ",") + `]}`
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for b.Loop() {
		a := e.postJSON("uma", body)
		if a.status != 200 || !strings.Contains(a.body, `"accepted":1000`) {
			b.Fatalf("%d %.200s", a.status, a.body)
		}
	}
}
