package main

import (
	"context"
	"time"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/policy"
)

// limitShareEvery is how often a cluster node recounts the live nodes for
// its part of the [[limit]] rates.
const limitShareEvery = time.Second

// sharePolicy makes a cluster node's policy cluster-wide (docs/POLICY.md):
// list edits made through any node's admin API are applied by every node
// to its own list file (the bucket's edits first, before the node serves),
// the cluster's rule table is every node's (policyrules.go), and each [[limit]] bucket allows 1/N of its rate and burst with N the
// live nodes. Outside a cluster it does nothing.
func (d *daemon) sharePolicy() error {
	c, ok := d.store.(clusterStore)
	if !ok {
		return nil
	}
	pl, err := c.node.OpenPolicyLists()
	if err != nil {
		return err
	}
	if err := pl.Start(d.applyListEdits); err != nil {
		return err
	}
	x := d.pex
	x.lists = pl
	if err := d.shareRules(c); err != nil {
		return err
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(limitShareEvery)
		defer t.Stop()
		nodes := 1
		for {
			if n := liveNodes(c.node); n > 0 && n != nodes {
				nodes = n
				x.limits.SetShare(1/float64(n), time.Now().UnixNano())
				d.log.Info().Str("event", "policy_limits_share").Int("nodes", n).
					Msg("policy: each [[limit]] allows this node its part of the rate")
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	x.stopShare = func() {
		close(stop)
		<-done
	}
	return nil
}

// liveNodes counts the cluster's live nodes; 0 when the bucket does not
// answer in time (the share in force stays).
func liveNodes(n *cluster.Node) int {
	ctx, cancel := context.WithTimeout(context.Background(), limitShareEvery)
	defer cancel()
	ms, err := n.Members(ctx)
	if err != nil {
		return 0
	}
	return len(ms)
}

// applyListEdits applies list edits from the cluster to this node's list
// files, under the daemon's lock as an admin edit, each file read and
// written once, then loads the policy once if a file changed. An edit this
// node made is in its file already; an edit of a list this node's policy
// lacks (or lacks a file for), or refused by it, is skipped and logged.
func (d *daemon) applyListEdits(edits []cluster.ListEdit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pex.holder.Load()
	var names []string
	byList := make(map[string][]policy.ListEntryEdit)
	for _, e := range edits {
		if _, ok := byList[e.List]; !ok {
			names = append(names, e.List)
		}
		byList[e.List] = append(byList[e.List], policy.ListEntryEdit{Entry: e.Entry, Add: e.Add})
	}
	changed := 0
	for _, name := range names {
		n, err := p.EditListBatch(name, byList[name])
		changed += n
		if err != nil {
			d.log.Warn().Str("event", "policy_list_edit").Str("list", name).Err(err).
				Msg("policy: list edits from the cluster not applied here")
		}
	}
	if changed == 0 {
		return
	}
	if err := d.pex.reloadPolicy(d.cfg, d.log); err == nil {
		d.log.Info().Str("event", "policy_list_edit").Int("edits", changed).Msg("policy: list edits from the cluster applied")
	}
}

// shareListEdit publishes an edit (checked already) to the cluster before
// this node applies it; nil outside a cluster.
func (x *policyExtras) shareListEdit(name, entry string, add bool) error {
	if x.lists == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return x.lists.Publish(ctx, cluster.ListEdit{List: name, Entry: entry, Add: add})
}
