package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// PolicyRulesBucket holds the traffic policy's rule table for the whole
// cluster: one key, its value the table's TOML text ([[rule]] tables), its
// revision the table's version. Every node puts the latest value in force
// (docs/POLICY.md, "Editing the rules").
const PolicyRulesBucket = "smppd_policy_rules"

const rulesKey = "table"

// RulesEdit is one version of the rule table.
type RulesEdit struct {
	Text     []byte
	Revision uint64
}

// PolicyRules shares the rule table: Publish puts a new one, Seed puts
// this node's when the bucket holds none, and a watch hands every version
// to the apply function, the current one first.
type PolicyRules struct {
	n  *Node
	kv jetstream.KeyValue

	stop chan struct{}
	done sync.WaitGroup
	once sync.Once
}

// OpenPolicyRules opens the bucket (created if missing). Nothing is
// applied until Start.
func (n *Node) OpenPolicyRules() (*PolicyRules, error) {
	cfg := jetstream.KeyValueConfig{Bucket: PolicyRulesBucket, History: 1, Storage: jetstream.FileStorage,
		Replicas: n.o.Replicas, Description: "smppd policy rule table (admin API), put in force by every node"}
	ctx, cancel := context.WithTimeout(context.Background(), n.o.JoinTimeout)
	defer cancel()
	kv, err := n.bucket(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &PolicyRules{n: n, kv: kv, stop: make(chan struct{})}, nil
}

// Publish puts text as the cluster's rule table and returns its revision,
// once a majority of the replicas stored it (up to ctx).
func (p *PolicyRules) Publish(ctx context.Context, text []byte) (uint64, error) {
	rev, err := p.kv.Put(ctx, rulesKey, text)
	if err != nil {
		return 0, fmt.Errorf("cluster: rule table not shared: %w", err)
	}
	return rev, nil
}

// ErrRulesChanged: the bucket no longer holds the revision an edit was
// made from (another node's edit landed since, or this node has not
// applied the newest yet).
var ErrRulesChanged = errors.New("cluster: the rule table changed since the revision this edit was made from")

// PublishOver is Publish for an edit made from revision base of the table
// (0: the bucket held none): it is put only while the bucket still holds
// base, else ErrRulesChanged, so adding or removing one rule never drops
// another node's edit made meanwhile.
func (p *PolicyRules) PublishOver(ctx context.Context, text []byte, base uint64) (uint64, error) {
	var rev uint64
	var err error
	if base == 0 {
		rev, err = p.kv.Create(ctx, rulesKey, text)
	} else {
		rev, err = p.kv.Update(ctx, rulesKey, text, base)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return 0, ErrRulesChanged
	case err != nil:
		return 0, fmt.Errorf("cluster: rule table not shared: %w", err)
	}
	return rev, nil
}

// Seed puts text as the table when the bucket holds none (the first node
// to start with rules); created is false when one was there already.
func (p *PolicyRules) Seed(ctx context.Context, text []byte) (rev uint64, created bool, err error) {
	rev, err = p.kv.Create(ctx, rulesKey, text)
	switch {
	case err == nil:
		return rev, true, nil
	case errors.Is(err, jetstream.ErrKeyExists):
		return 0, false, nil
	}
	return 0, false, fmt.Errorf("cluster: rule table not seeded: %w", err)
}

// Start hands the bucket's current table to apply (before Start returns;
// not at all when the bucket holds none), then every later version, the
// newest of a burst only, until Close. apply runs on the watch's
// goroutine.
func (p *PolicyRules) Start(apply func(RulesEdit)) error {
	w, err := p.kv.Watch(context.Background(), rulesKey)
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", PolicyRulesBucket, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.n.o.JoinTimeout)
	defer cancel()
	var cur *RulesEdit
	// The watch's consumer may read from a replica behind the leader: its
	// end-of-initial-values marker is not enough, so the watch is read on
	// until it passed the last sequence the leader reports.
	var seen, want uint64
	for caughtUp := false; !caughtUp || seen < want; {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("cluster: watch %s ended", PolicyRulesBucket)
			}
			if e == nil {
				caughtUp = true
				last, err := p.lastSeq(ctx)
				if err != nil {
					_ = w.Stop()
					return err
				}
				want = last
				continue
			}
			seen = max(seen, e.Revision())
			if e.Operation() == jetstream.KeyValuePut {
				cur = &RulesEdit{Text: e.Value(), Revision: e.Revision()}
			} else {
				cur = nil
			}
		case <-ctx.Done():
			_ = w.Stop()
			return fmt.Errorf("cluster: watch %s: the current table not read within %s", PolicyRulesBucket, p.n.o.JoinTimeout)
		}
	}
	if cur != nil {
		apply(*cur)
	}
	p.done.Add(1)
	go p.watch(w, apply)
	return nil
}

// lastSeq is the bucket's last sequence as its stream's leader reports it.
func (p *PolicyRules) lastSeq(ctx context.Context) (uint64, error) {
	return kvLastSeq(ctx, p.kv, PolicyRulesBucket)
}

// kvLastSeq is kv's last sequence as its stream's leader reports it (0
// when it holds nothing). A watch's consumer may read from a replica
// behind the leader: its end-of-initial-values marker can come before
// the last write, so a Start that must see what is there reads the watch
// on until it has passed this.
func kvLastSeq(ctx context.Context, kv jetstream.KeyValue, bucket string) (uint64, error) {
	st, err := kv.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("cluster: %s status: %w", bucket, err)
	}
	if bs, ok := st.(*jetstream.KeyValueBucketStatus); ok && bs.StreamInfo().State.Msgs > 0 {
		return bs.StreamInfo().State.LastSeq, nil
	}
	return 0, nil // an empty bucket: nothing to wait for
}

func (p *PolicyRules) watch(w jetstream.KeyWatcher, apply func(RulesEdit)) {
	defer p.done.Done()
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-p.stop:
			return
		case e, ok := <-w.Updates():
			if !ok {
				p.n.lg.Warn().Str("event", "policy_rules_watch_ended").
					Msg("cluster: the watch of the policy rule table ended; other nodes' edits reach this node at its next start")
				return
			}
			var last *RulesEdit
			if e != nil && e.Operation() == jetstream.KeyValuePut {
				last = &RulesEdit{Text: e.Value(), Revision: e.Revision()}
			}
			// Only the newest of what has arrived matters.
			for more := true; more; {
				select {
				case e, ok := <-w.Updates():
					more = ok
					if ok && e != nil && e.Operation() == jetstream.KeyValuePut {
						last = &RulesEdit{Text: e.Value(), Revision: e.Revision()}
					}
				default:
					more = false
				}
			}
			if last != nil {
				apply(*last)
			}
		}
	}
}

// Close stops the watch; an apply running finishes first.
func (p *PolicyRules) Close() {
	p.once.Do(func() { close(p.stop) })
	p.done.Wait()
}
