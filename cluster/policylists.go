package cluster

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// PolicyListsBucket holds the edits of the traffic policy's list files made
// through any node's admin API: key "<list b64url>.<entry b64url>", value
// "add" or "remove" (the last edit of that entry wins). Every node applies
// every key to its own copy of the list file, so the lists stay the same
// cluster-wide (docs/POLICY.md).
const PolicyListsBucket = "smppd_policy_lists"

// ListEdit is one edit of a policy list: add or remove Entry.
type ListEdit struct {
	List, Entry string
	Add         bool
}

// PolicyLists shares list edits: Publish writes one to the bucket, and a
// watch hands every node's edits (this node's own included, which it finds
// applied already) to the apply function, the bucket's current contents
// first. Edits that arrive together are handed over in one call, so a
// burst costs one policy reload per node.
type PolicyLists struct {
	n  *Node
	kv jetstream.KeyValue

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// OpenPolicyLists opens the bucket (created if missing). Nothing is
// applied until Start.
func (n *Node) OpenPolicyLists() (*PolicyLists, error) {
	cfg := jetstream.KeyValueConfig{Bucket: PolicyListsBucket, History: 1, Storage: jetstream.FileStorage,
		Replicas: n.o.Replicas, Description: "smppd policy list edits (admin API), applied by every node to its list files"}
	ctx, cancel := context.WithTimeout(context.Background(), n.o.JoinTimeout)
	defer cancel()
	kv, err := n.bucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &PolicyLists{n: n, kv: kv, stop: make(chan struct{})}, nil
}

// listEditKey is e's key in the bucket: both parts base64url, as a list
// name may hold ':' and an entry '*' or '+', which keys may not.
func listEditKey(list, entry string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(list)) + "." + base64.RawURLEncoding.EncodeToString([]byte(entry))
}

func parseListEdit(key string, value []byte) (ListEdit, bool) {
	ls, es, ok := strings.Cut(key, ".")
	if !ok {
		return ListEdit{}, false
	}
	l, lerr := base64.RawURLEncoding.DecodeString(ls)
	e, eerr := base64.RawURLEncoding.DecodeString(es)
	if lerr != nil || eerr != nil || len(l) == 0 || len(e) == 0 {
		return ListEdit{}, false
	}
	switch string(value) {
	case "add":
		return ListEdit{List: string(l), Entry: string(e), Add: true}, true
	case "remove":
		return ListEdit{List: string(l), Entry: string(e)}, true
	}
	return ListEdit{}, false
}

// Publish writes e to the bucket; every node applies it. It waits for
// JetStream's acknowledgement (a majority of the replicas) up to ctx.
func (p *PolicyLists) Publish(ctx context.Context, e ListEdit) error {
	v := "remove"
	if e.Add {
		v = "add"
	}
	if _, err := p.kv.PutString(ctx, listEditKey(e.List, e.Entry), v); err != nil {
		return fmt.Errorf("cluster: list edit not shared: %w", err)
	}
	return nil
}

// Start hands the bucket's current edits to apply (one call, nil when it
// holds none, before Start returns), then every later edit from the watch,
// each burst in one call, until Close. apply runs on the watch's
// goroutine.
func (p *PolicyLists) Start(apply func([]ListEdit)) error {
	w, err := p.kv.WatchAll(context.Background())
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", PolicyListsBucket, err)
	}
	var initial []ListEdit
	ctx, cancel := context.WithTimeout(context.Background(), p.n.o.JoinTimeout)
	defer cancel()
	var seen, want uint64 // until the leader's last sequence (kvLastSeq)
	for caughtUp := false; !caughtUp || seen < want; {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("cluster: watch %s ended", PolicyListsBucket)
			}
			if e == nil { // the end of the current values
				caughtUp = true
				if want, err = kvLastSeq(ctx, p.kv, PolicyListsBucket); err != nil {
					_ = w.Stop()
					return err
				}
				continue
			}
			seen = max(seen, e.Revision())
			if le, ok := parseListEdit(e.Key(), e.Value()); ok {
				initial = append(initial, le)
			}
		case <-ctx.Done():
			_ = w.Stop()
			return fmt.Errorf("cluster: watch %s: the current edits not read within %s", PolicyListsBucket, p.n.o.JoinTimeout)
		}
	}
	apply(initial)
	p.done.Add(1)
	go p.watch(w, apply)
	return nil
}

func (p *PolicyLists) watch(w jetstream.KeyWatcher, apply func([]ListEdit)) {
	defer p.done.Done()
	defer func() { _ = w.Stop() }()
	var batch []ListEdit
	for {
		select {
		case <-p.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				p.n.lg.Warn().Str("event", "policy_lists_watch_ended").
					Msg("cluster: the watch of policy list edits ended; other nodes' edits reach this node at its next start")
				return
			}
			batch = batch[:0]
			if e != nil && e.Operation() == jetstream.KeyValuePut {
				if le, ok := parseListEdit(e.Key(), e.Value()); ok {
					batch = append(batch, le)
				}
			}
			// Take what else has arrived: one reload for the burst.
			for more := true; more; {
				select {
				case e, ok := <-w.Updates():
					more = ok
					if ok && e != nil && e.Operation() == jetstream.KeyValuePut {
						if le, ok := parseListEdit(e.Key(), e.Value()); ok {
							batch = append(batch, le)
						}
					}
				default:
					more = false
				}
			}
			if len(batch) > 0 {
				apply(batch)
			}
		}
	}
}

// Close stops the watch; an apply running finishes first.
func (p *PolicyLists) Close() {
	p.once.Do(func() { close(p.stop) })
	p.done.Wait()
}
