package main

import (
	"bytes"
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
// the cluster's rule table is every node's (shareRules; its admin API is
// in policyrules.go), and each [[limit]] bucket allows 1/N of its rate and
// burst with N the live nodes. Outside a cluster it does nothing.
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

// shareRules makes the rule table cluster-wide: the bucket's table wins
// over the node's own; a node that finds the bucket empty puts its own
// there first (the first node to start with rules).
func (d *daemon) shareRules(c clusterStore) error {
	pr, err := c.node.OpenPolicyRules()
	if err != nil {
		return err
	}
	if p := d.pex.holder.Load(); p != nil && p.RuleCount() > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rev, created, err := pr.Seed(ctx, p.RulesText())
		cancel()
		if err != nil {
			pr.Close()
			return err
		}
		if created {
			d.log.Info().Str("event", "policy_rules").Uint64("revision", rev).Int("rules", p.RuleCount()).
				Msg("policy: the cluster had no rule table; this node's is now the cluster's")
		}
	}
	d.pex.rules = pr
	return pr.Start(d.applyClusterRules)
}

// publishRules puts a table (checked already) in the cluster's bucket
// before this node puts it in force; over (an edit of the table in force):
// only while the bucket holds the revision this node has in force.
func (x *policyExtras) publishRules(text []byte, over bool) (uint64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !over {
		return x.rules.Publish(ctx, text)
	}
	var base uint64
	if x.clusterRules != nil {
		base = x.clusterRules.Revision
	}
	return x.rules.PublishOver(ctx, text, base)
}

// applyClusterRules puts a table from the cluster's bucket in force, under
// the daemon's lock as an admin edit: a revision this node has in force
// already (its own edit, seen back) or an older one changes nothing; one
// that does not load here is logged and the table in force stays.
func (d *daemon) applyClusterRules(e cluster.RulesEdit) {
	d.mu.Lock()
	defer d.mu.Unlock()
	x := d.pex
	if cur := x.clusterRules; cur != nil && e.Revision <= cur.Revision {
		return
	}
	t := &policy.RuleTable{Text: e.Text, Revision: e.Revision, Shared: true}
	if d.cfg.PolicyPath() == "" {
		x.clusterRules = t
		d.log.Warn().Str("event", "policy_rules").Uint64("revision", e.Revision).
			Msg("policy: the cluster's rule table not applied: this node has no [policy] file")
		return
	}
	p, err := x.readPolicyWith(d.cfg, t)
	if err != nil {
		d.log.Error().Str("event", "policy_rules").Uint64("revision", e.Revision).Err(err).
			Msg("policy: the cluster's rule table does not load here; the table in force stays")
		return
	}
	x.clusterRules = t
	if p.RulesFile() != "" && !bytes.Equal(p.LocalRulesText(), e.Text) {
		if err := p.WriteRulesFile(e.Text); err != nil {
			d.log.Error().Str("event", "policy_rules").Uint64("revision", e.Revision).Err(err).
				Msg("policy: the rules file not written; the cluster's rule table is in force all the same")
		}
	}
	x.put(p, d.log)
	d.log.Info().Str("event", "policy_rules").Uint64("revision", e.Revision).Int("rules", p.RuleCount()).
		Msg("policy: the cluster's rule table applied")
}
