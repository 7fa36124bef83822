package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/freeport"
)

// freePorts returns n loopback ports free now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	out, err := freeport.Take(n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// threeNodes returns the Options of three embedded nodes on loopback. The
// heartbeat is the default's second: a shorter one (its lease 4 beats)
// lets a key expire whenever a loaded machine delays a refresh.
func threeNodes(t *testing.T) []Options {
	t.Helper()
	ports := freePorts(t, 6)
	dir := t.TempDir()
	var routes []string
	for i := range 3 {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[3+i]))
	}
	var out []Options
	for i := range 3 {
		out = append(out, Options{
			NodeID: i + 1, Replicas: 3, JoinTimeout: 20 * time.Second, Heartbeat: DefaultHeartbeat,
			Logger: testLogger(),
			Embedded: Embedded{Name: "test", Listen: "127.0.0.1:" + strconv.Itoa(ports[i]),
				RouteListen: "127.0.0.1:" + strconv.Itoa(ports[3+i]), Routes: routes,
				StoreDir: filepath.Join(dir, "n"+strconv.Itoa(i+1))},
		})
	}
	return out
}

// joinAll joins every node at once (each waits for a quorum).
func joinAll(t *testing.T, opts []Options) []*Node {
	t.Helper()
	nodes := make([]*Node, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i := range opts {
		wg.Go(func() { nodes[i], errs[i] = Join(opts[i]) })
	}
	wg.Wait()
	// Closed at the test's end even when another node failed to join.
	t.Cleanup(func() {
		for _, n := range nodes {
			if n != nil {
				_ = n.Close()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	return nodes
}

// members waits up to 30 s for n's view of the live nodes to count want
// (the view follows joins and leaves through the KV bucket's replication,
// and a stream leader may be elected after a server left) and returns the
// last view.
func members(t *testing.T, n *Node, want int) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ids []int
	var alive []Member
	err := retry(ctx, func(c context.Context) error {
		ms, err := n.Members(c)
		if err != nil {
			return err
		}
		ids, alive = ids[:0], alive[:0]
		for _, m := range ms {
			ids = append(ids, m.Node)
			if m.Alive && m.Beat >= m.Started {
				alive = append(alive, m)
			}
		}
		if len(ids) != want || len(alive) != len(ms) {
			return fmt.Errorf("members %+v, want %d alive", ms, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestThreeEmbeddedNodes(t *testing.T) {
	opts := threeNodes(t)
	nodes := joinAll(t, opts)
	if got := members(t, nodes[0], 3); len(got) != 3 || got[0] != 1 || got[2] != 3 {
		t.Fatalf("members %v, want [1 2 3]", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	si, err := nodes[2].JetStream().Stream(ctx, JournalStream)
	if err != nil {
		t.Fatal(err)
	}
	if c := si.CachedInfo().Config; c.Replicas != 3 || c.Subjects[0] != "smppd.journal.*" {
		t.Fatalf("journal stream %+v", c)
	}

	// A second process with node 2's id, through node 1's client port, is
	// refused: the holder keeps refreshing its key.
	dup := Options{NodeID: 2, Replicas: 3, JoinTimeout: 60 * time.Second, Heartbeat: 250 * time.Millisecond,
		URLs: []string{"nats://" + opts[0].Embedded.Listen}, Logger: zerolog.Nop()}
	start := time.Now()
	if n, err := Join(dup); !errors.Is(err, ErrNodeIDTaken) {
		if n != nil {
			_ = n.Close()
		}
		t.Fatalf("duplicate node_id joined: %v", err)
	}
	// Refused on seeing the holder's refresh (a heartbeat), not at the
	// join timeout: half of it leaves a loaded machine room.
	if d := time.Since(start); d > dup.JoinTimeout/2 {
		t.Fatalf("duplicate refused after %v, want on the holder's next refresh, long before join_timeout %v", d, dup.JoinTimeout)
	}

	// A node that leaves frees its id at once; its return is a join.
	_ = nodes[2].Close()
	nodes[2] = nil
	if got := members(t, nodes[0], 2); len(got) != 2 {
		t.Fatalf("members after node 3 left: %v", got)
	}
	back, err := Join(opts[2])
	if err != nil {
		t.Fatal(err)
	}
	nodes[2] = back
	if got := members(t, nodes[1], 3); len(got) != 3 {
		t.Fatalf("members after node 3 came back: %v", got)
	}
}

func TestJoinTimesOutWithoutQuorum(t *testing.T) {
	opts := threeNodes(t)
	o := opts[0]
	o.JoinTimeout = 2 * time.Second
	start := time.Now()
	n, err := Join(o)
	if err == nil {
		_ = n.Close()
		t.Fatal("a lone node of three joined")
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("Join took %v with join_timeout 2s", d)
	}
}

func testLogger() zerolog.Logger {
	if testing.Verbose() {
		return zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	}
	return zerolog.Nop()
}

func TestStatusHandler(t *testing.T) {
	opts := threeNodes(t)
	nodes := joinAll(t, opts)
	members(t, nodes[1], 3) // node 2 has seen every join
	rec := httptest.NewRecorder()
	nodes[1].Handler()(rec, httptest.NewRequest("GET", "/v1/cluster", nil))
	var st Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || rec.Code != 200 {
		t.Fatalf("GET /v1/cluster: %d %s", rec.Code, rec.Body)
	}
	if st.Node != 2 || st.Server != "smppd-2" || st.Replicas != 3 || len(st.Nodes) != 3 || !st.Nodes[2].Alive {
		t.Fatalf("status %+v", st)
	}
}
