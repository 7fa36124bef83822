package cluster

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BindsBucket holds each node's bind counts per user: key
// "<node>.<system_id, base64url>", value "all,transmitter,receiver,transceiver".
const BindsBucket = "smppd_binds"

// bindsFlush is how soon a change of this node's counts is written.
const bindsFlush = 100 * time.Millisecond

// Binds shares bind counts per user across the cluster: this node writes
// its own counts (Changed) and refreshes them every heartbeat; the
// bucket's TTL drops a dead node's keys, and entries older than the TTL
// are ignored, so a dead node's binds stop counting within the lease.
// Binds reads the other nodes' counts from a local copy kept by a watch:
// a bind never waits on the network. Two binds on different nodes within
// the replication delay can both pass: a user can exceed max_binds by at
// most one bind per other node for that moment (docs/CLUSTER.md).
type Binds struct {
	n   *Node
	kv  jetstream.KeyValue
	ttl time.Duration

	mu     sync.Mutex
	remote map[string]map[int]remoteBinds // user -> node -> counts
	mine   map[string][4]int              // this node's counts, non-zero
	dirty  map[string]bool

	wake chan struct{}
	stop chan struct{}
	done sync.WaitGroup
}

type remoteBinds struct {
	c  [4]int
	at time.Time
}

// StartBinds opens the binds bucket (created if missing) and starts the
// watch and the writer; Close stops them.
func (n *Node) StartBinds() (*Binds, error) {
	ttl := time.Duration(LeaseBeats) * n.o.Heartbeat
	cfg := jetstream.KeyValueConfig{Bucket: BindsBucket, History: 1, TTL: ttl, Storage: jetstream.MemoryStorage,
		Replicas: n.o.Replicas, Description: "smppd bind counts per node and user, refreshed every heartbeat"}
	ctx, cancel := context.WithTimeout(context.Background(), n.o.JoinTimeout)
	defer cancel()
	kv, err := n.bucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	w, err := kv.WatchAll(context.Background())
	if err != nil {
		return nil, fmt.Errorf("cluster: watch %s: %w", BindsBucket, err)
	}
	b := &Binds{n: n, kv: kv, ttl: ttl, remote: map[string]map[int]remoteBinds{}, mine: map[string][4]int{},
		dirty: map[string]bool{}, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	b.done.Add(2)
	go b.watch(w)
	go b.write()
	return b, nil
}

// Binds returns systemID's binds on the other live nodes: all, and per
// bind type index (transmitter, receiver, transceiver).
func (b *Binds) Binds(systemID string) (all int, byType [3]int) {
	old := time.Now().Add(-b.ttl)
	b.mu.Lock()
	for _, r := range b.remote[systemID] {
		if r.at.After(old) {
			all += r.c[0]
			for i := range byType {
				byType[i] += r.c[i+1]
			}
		}
	}
	b.mu.Unlock()
	return all, byType
}

// Changed records this node's counts for systemID (written within
// bindsFlush). It never blocks.
func (b *Binds) Changed(systemID string, all int, byType [3]int) {
	b.mu.Lock()
	if all == 0 {
		delete(b.mine, systemID)
	} else {
		b.mine[systemID] = [4]int{all, byType[0], byType[1], byType[2]}
	}
	b.dirty[systemID] = true
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Close stops the watch and the writer and deletes this node's keys.
func (b *Binds) Close() {
	close(b.stop)
	b.done.Wait()
	b.mu.Lock()
	users := make([]string, 0, len(b.mine))
	for u := range b.mine {
		users = append(users, u)
	}
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, u := range users {
		_ = b.kv.Delete(ctx, b.key(b.n.o.NodeID, u))
	}
}

func (b *Binds) key(node int, user string) string {
	return strconv.Itoa(node) + "." + base64.RawURLEncoding.EncodeToString([]byte(user))
}

func parseKey(k string) (node int, user string, ok bool) {
	ns, us, found := strings.Cut(k, ".")
	if !found {
		return 0, "", false
	}
	node, err := strconv.Atoi(ns)
	u, uerr := base64.RawURLEncoding.DecodeString(us)
	return node, string(u), err == nil && uerr == nil
}

func (b *Binds) watch(w jetstream.KeyWatcher) {
	defer b.done.Done()
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-b.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue // the end of the initial values
			}
			node, user, ok := parseKey(e.Key())
			if !ok || node == b.n.o.NodeID {
				continue
			}
			b.mu.Lock()
			if e.Operation() == jetstream.KeyValuePut {
				var c [4]int
				if parseCounts(string(e.Value()), &c) {
					if b.remote[user] == nil {
						b.remote[user] = map[int]remoteBinds{}
					}
					b.remote[user][node] = remoteBinds{c: c, at: e.Created()}
				}
			} else if m := b.remote[user]; m != nil {
				delete(m, node)
				if len(m) == 0 {
					delete(b.remote, user)
				}
			}
			b.mu.Unlock()
		}
	}
}

func parseCounts(s string, c *[4]int) bool {
	for i := range c {
		f, rest, _ := strings.Cut(s, ",")
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 {
			return false
		}
		c[i], s = v, rest
	}
	return true
}

// write puts changed counts soon after a change and all of them every
// heartbeat (the TTL would drop them otherwise).
func (b *Binds) write() {
	defer b.done.Done()
	refresh := time.NewTicker(b.n.o.Heartbeat)
	defer refresh.Stop()
	for {
		all := false
		select {
		case <-b.stop:
			return
		case <-refresh.C:
			all = true
		case <-b.wake:
			select { // gather a burst of binds into one write each
			case <-b.stop:
				return
			case <-time.After(bindsFlush):
			}
		}
		b.flush(all)
	}
}

func (b *Binds) flush(all bool) {
	type put struct {
		user string
		c    [4]int
		del  bool
	}
	var puts []put
	b.mu.Lock()
	for u := range b.dirty {
		c, ok := b.mine[u]
		puts = append(puts, put{user: u, c: c, del: !ok})
	}
	clear(b.dirty)
	if all {
		for u, c := range b.mine {
			puts = append(puts, put{user: u, c: c})
		}
	}
	b.mu.Unlock()
	for _, p := range puts {
		ctx, cancel := context.WithTimeout(context.Background(), b.n.o.Heartbeat)
		var err error
		if p.del {
			err = b.kv.Delete(ctx, b.key(b.n.o.NodeID, p.user))
		} else {
			_, err = b.kv.PutString(ctx, b.key(b.n.o.NodeID, p.user), fmt.Sprintf("%d,%d,%d,%d", p.c[0], p.c[1], p.c[2], p.c[3]))
		}
		cancel()
		if err != nil {
			b.n.lg.Warn().Err(err).Str("event", "binds_write_failed").Str("system_id", p.user).
				Msg("cluster: this node's bind count not shared; other nodes count the last one written until it expires")
		}
	}
}
