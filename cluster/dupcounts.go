package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DuplicatesBucket keeps each node run's possible-duplicate counters, key
// "<node_id>.<started>" (the run's start, Unix ns), written within
// dupFlush of each change, so a node's last counts outlive it (its
// membership key, with the counters of its last heartbeat, expires with
// the node) and a node started later sees them too.
const DuplicatesBucket = "smppd_node_duplicates"

const (
	// dupFlush is how often a node reads its counters and writes them
	// when they changed: what a kill -9 can take from the cluster's total
	// are the counts of the last dupFlush and one write.
	dupFlush = 100 * time.Millisecond
	// dupKeep is the bucket's TTL: a run's key written longer ago (a node
	// gone for a day) is forgotten; a live run rewrites it every dupRefresh.
	dupKeep    = 24 * time.Hour
	dupRefresh = time.Hour
)

// openDuplicates opens (or creates) DuplicatesBucket.
func (n *Node) openDuplicates(ctx context.Context) error {
	kv, err := n.bucket(ctx, jetstream.KeyValueConfig{
		Bucket:      DuplicatesBucket,
		Description: "smppd possible-duplicate counters: one key per node run, kept after the run ends",
		History:     1,
		TTL:         dupKeep,
		Storage:     jetstream.FileStorage,
		Replicas:    n.o.Replicas,
	})
	n.dups = kv
	return err
}

// SetDuplicates makes this node write f's counters (its own; the cluster
// adds TakeoverAlive) to DuplicatesBucket within dupFlush of a change,
// until Close, which writes them once more. Call once.
func (n *Node) SetDuplicates(f func() Duplicates) {
	n.dupStop, n.dupDone = make(chan struct{}), make(chan struct{})
	go n.flushDuplicates(f)
}

// flushDuplicates is SetDuplicates' goroutine.
func (n *Node) flushDuplicates(f func() Duplicates) {
	defer close(n.dupDone)
	key := strconv.Itoa(n.o.NodeID) + "." + strconv.FormatInt(n.lease.me.Started, 10)
	var last Duplicates
	var at time.Time
	write := func() {
		d := f()
		d.TakeoverAlive = n.aliveDup.Load()
		d.add(Duplicates{}) // Sum
		if !at.IsZero() && d == last && time.Since(at) < dupRefresh {
			return
		}
		val, _ := json.Marshal(d)
		ctx, cancel := context.WithTimeout(context.Background(), n.o.Heartbeat)
		defer cancel()
		if _, err := n.dups.Put(ctx, key, val); err != nil {
			return // tried again at the next tick
		}
		last, at = d, time.Now()
	}
	t := time.NewTicker(dupFlush)
	defer t.Stop()
	for {
		select {
		case <-n.dupStop:
			write()
			return
		case <-t.C:
			write()
		}
	}
}

// stopDuplicates stops SetDuplicates' goroutine after its last write.
func (n *Node) stopDuplicates() {
	if n.dupStop != nil {
		close(n.dupStop)
		<-n.dupDone
		n.dupStop = nil
	}
}

// runDuplicates adds up the counters of every run in DuplicatesBucket
// (CDR: the largest), read from one listing of its keys (bucketKeys); ok
// false when it holds none or cannot be read.
func (n *Node) runDuplicates(ctx context.Context) (d Duplicates, ok bool) {
	if n.dups == nil {
		return d, false
	}
	keys, err := n.bucketKeys(ctx, DuplicatesBucket)
	if err != nil {
		return d, false
	}
	for _, key := range keys {
		e, err := n.dups.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return Duplicates{}, false
		}
		var r Duplicates
		if json.Unmarshal(e.Value(), &r) == nil {
			d.add(r)
			ok = true
		}
	}
	return d, ok
}
