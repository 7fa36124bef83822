package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Member is one node's membership key as stored in NodesBucket.
type Member struct {
	Node    int    `json:"node"`
	Server  string `json:"server"`
	PID     int    `json:"pid"`
	Host    string `json:"host"`
	Started int64  `json:"started"` // Unix ns
	Beat    int64  `json:"beat"`    // Unix ns of the latest refresh
	// Applied is the journal's stream sequence this node's index holds
	// (0 while it replays): compaction.go's cut never passes it.
	Applied uint64 `json:"applied"`
	// Alive is true for a key the bucket still holds: its node refreshed
	// it within the lease (the bucket's TTL drops it otherwise).
	Alive bool `json:"alive"`
	// Status is the node's sessions and queues as of Beat (SetStatus).
	Status *NodeStatus `json:"status,omitempty"`
}

// lease is this node's key in NodesBucket, refreshed every heartbeat.
type lease struct {
	n    *Node
	key  string
	me   Member
	rev  uint64
	stop chan struct{}
	done sync.WaitGroup
}

// takeLease creates this node's key. A key that exists belongs to another
// process: if its holder refreshes it while we watch, that holder is
// alive and the join is refused at once; if it expires (a node killed
// without leaving), we take it.
func takeLease(ctx context.Context, n *Node) (*lease, error) {
	host, _ := os.Hostname()
	now := time.Now().UnixNano()
	l := &lease{n: n, key: strconv.Itoa(n.o.NodeID), stop: make(chan struct{}),
		me: Member{Node: n.o.NodeID, Server: n.serverName(), PID: os.Getpid(), Host: host, Started: now, Beat: now}}
	var seen uint64 // the holder's revision we first saw
	for {
		val, _ := json.Marshal(l.me)
		rev, err := n.nodes.Create(ctx, l.key, val)
		if err == nil {
			l.rev = rev
			l.done.Add(1)
			go l.beat()
			return l, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			// No answer while the bucket's stream elects a leader (a
			// cluster starting): tried again until join_timeout, as the
			// buckets are.
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("cluster: take node_id %d: %w", n.o.NodeID, err)
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		e, gerr := n.nodes.Get(ctx, l.key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			continue // expired between the two calls
		case gerr != nil:
			return nil, fmt.Errorf("cluster: read node_id %d: %w", n.o.NodeID, gerr)
		case seen == 0:
			seen = e.Revision()
			n.lg.Warn().Str("event", "node_id_held").Str("holder", string(e.Value())).
				Msg("cluster: node_id held; waiting for the holder's lease to expire or refresh")
		case e.Revision() != seen:
			var m Member
			_ = json.Unmarshal(e.Value(), &m)
			return nil, fmt.Errorf("%w: node_id %d is held by a live node (server %s, host %s, pid %d): give each node its own [cluster] node_id",
				ErrNodeIDTaken, n.o.NodeID, m.Server, m.Host, m.PID)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: node_id %d still held after join_timeout %v", ErrNodeIDTaken, n.o.NodeID, n.o.JoinTimeout)
		case <-time.After(n.o.Heartbeat / 4):
		}
	}
}

// beat refreshes the key every heartbeat. A refresh that finds another
// revision means the key expired and someone else took it: logged loudly
// (two nodes must never share an id) and retaken only if it is free.
func (l *lease) beat() {
	defer l.done.Done()
	t := time.NewTicker(l.n.o.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.me.Beat, l.me.Applied, l.me.Status = time.Now().UnixNano(), l.n.appliedSeq(), l.n.statusNow()
		val, _ := json.Marshal(l.me)
		ctx, cancel := context.WithTimeout(context.Background(), l.n.o.Heartbeat)
		rev, err := l.n.nodes.Update(ctx, l.key, val, l.rev)
		if err != nil && isWrongSequence(err) {
			rev, err = l.resync(ctx, val, err)
		}
		if err != nil && errors.Is(err, jetstream.ErrKeyNotFound) || err != nil && isWrongSequence(err) {
			rev, err = l.n.nodes.Create(ctx, l.key, val)
			if err != nil {
				l.n.lg.Error().Err(err).Str("event", "node_lease_lost").Msg("cluster: this node's node_id lease expired and could not be taken back")
			}
		} else if err != nil {
			l.n.lg.Warn().Err(err).Str("event", "node_heartbeat_failed").Msg("cluster: heartbeat not written")
		}
		_, _ = l.n.Members(ctx) // the live nodes and their statuses, for BindShare
		cancel()
		if err == nil {
			l.rev = rev
		}
	}
}

// resync refreshes the key at its current revision when it still holds
// this lease's own entry: an update that timed out (a loaded node or
// server) may have been written all the same, leaving l.rev one behind.
// Without this every later update failed on the stale revision, the Create
// after it found the key, and the key lapsed while the node lived: gone
// from the members for a beat (a compaction's cut, bind and limit
// shares). A key gone (not found) or someone else's returns as before:
// taken again, or the lease reported lost.
func (l *lease) resync(ctx context.Context, val []byte, updateErr error) (uint64, error) {
	e, err := l.n.nodes.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, err
	}
	if err != nil {
		return 0, updateErr
	}
	var m Member
	if json.Unmarshal(e.Value(), &m) != nil || m.Node != l.me.Node || m.Server != l.me.Server ||
		m.PID != l.me.PID || m.Host != l.me.Host || m.Started != l.me.Started {
		return 0, updateErr
	}
	return l.n.nodes.Update(ctx, l.key, val, e.Revision())
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// release stops the heartbeat and deletes the key, so the id is free at
// once for this node's next start.
func (l *lease) release() {
	close(l.stop)
	l.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = l.n.nodes.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
}

// Members lists the nodes whose keys the bucket holds (all alive), by
// node id. A read cut short (ctx, no leader) is an error, never a shorter
// list: a live node missing from it would let a compaction's cut pass its
// applied sequence, or a bind share count one node less.
func (n *Node) Members(ctx context.Context) ([]Member, error) {
	keys, err := n.memberKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(keys))
	for _, k := range keys {
		e, err := n.nodes.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or left meanwhile
		}
		if err != nil {
			return nil, err
		}
		var m Member
		if json.Unmarshal(e.Value(), &m) == nil {
			m.Alive = true
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b Member) int { return a.Node - b.Node })
	n.seen.note(out)
	return out, nil
}

// memberKeys lists NodesBucket's keys (bucketKeys).
func (n *Node) memberKeys(ctx context.Context) ([]string, error) {
	return n.bucketKeys(ctx, NodesBucket)
}

// bucketKeys lists a KV bucket's keys from one read of its stream's
// subjects. Not the bucket's key lister: its watch ends the list once it
// has had as many entries as there were keys, so while heartbeats refresh
// keys one can come twice and another not at all (a live node missed
// about once in 3,000 reads on a loaded 3-node test cluster).
func (n *Node) bucketKeys(ctx context.Context, bucket string) ([]string, error) {
	st, err := n.js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, err
	}
	pre := "$KV." + bucket + "."
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(pre+">"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subj, pre))
	}
	return keys, nil
}
