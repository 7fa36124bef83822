package hostile

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smppd/smppd/codec"
)

const (
	bruteAttempts  = 200
	bruteParallel  = 16
	bruteTime      = 10 * time.Second
	bruteBindBound = 2 * time.Second // demo must bind within this afterwards
)

// bruteForce binds demo with wrong passwords from 127.0.0.2, each attempt
// on a new connection, then binds demo with its password from 127.0.0.1.
func bruteForce(e *env, r *Result) {
	ctx, cancel := context.WithTimeout(e.ctx, bruteTime)
	defer cancel()
	var mu sync.Mutex
	outcomes := make(map[string]int)
	var lats []time.Duration
	sem := make(chan struct{}, bruteParallel)
	var wg sync.WaitGroup
	start := time.Now()
	tried := 0
	for i := 0; i < bruteAttempts && ctx.Err() == nil; i++ {
		sem <- struct{}{}
		tried++
		wg.Go(func() {
			defer func() { <-sem }()
			t0 := time.Now()
			outcome := bruteOne(ctx, e, fmt.Sprintf("bad%05d", i))
			mu.Lock()
			outcomes[outcome]++
			lats = append(lats, time.Since(t0))
			mu.Unlock()
		})
	}
	wg.Wait()
	took := time.Since(start)
	r.figure("wrong-password binds", "%d in %s, answered: %s", tried, seconds(took), histogram(outcomes))
	if len(lats) > 0 {
		sort.Slice(lats, func(a, b int) bool { return lats[a] < lats[b] })
		r.figure("attacker bind_resp time", "p50 %s, max %s", ms(lats[len(lats)/2]), ms(lats[len(lats)-1]))
	}
	r.check("no wrong password accepted", outcomes[codec.StatusOK.String()] == 0, "%d accepted", outcomes[codec.StatusOK.String()])
	r.check(fmt.Sprintf("%d attempts made", bruteAttempts), tried == bruteAttempts, "%d in %s", tried, seconds(took))

	took, st, err := freshBind(e)
	if err != nil {
		r.check("demo binds from 127.0.0.1 within 2 s", false, "%v after %s", err, seconds(took))
		return
	}
	r.check("demo binds from 127.0.0.1 within 2 s", st == codec.StatusOK && took <= bruteBindBound, "%v after %s", st, seconds(took))
}

// bruteOne makes one attempt and returns its outcome: the bind_resp
// status, or what went wrong.
func bruteOne(ctx context.Context, e *env, pass string) string {
	c, err := e.srv.dial(ctx, ipBrute)
	if err != nil {
		return "dial error"
	}
	defer c.Close()
	d := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl))
	}
	st, err := bindOn(c, codec.BindTransmitterID, demoUser, pass, d)
	switch {
	case err == nil:
		return st.String()
	case isTimeout(err):
		return "no answer"
	case isClosedByPeer(err):
		return "closed without answer"
	}
	return "error"
}

// histogram formats counts as "a 3, b 1", sorted by key.
func histogram(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
