package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names of what smppd creates in JetStream (docs/adr/0004-cluster-jetstream.md).
const (
	// JournalStream holds every node's store writes, in batches, on
	// JournalSubject(node).
	JournalStream = "SMPPD_JOURNAL"
	// NodesBucket holds one key per live node (its lease).
	NodesBucket = "smppd_nodes"
	// journalDupWindow is JetStream's duplicate window for the journal: a
	// batch re-published after a lost acknowledgement within it is stored
	// once.
	journalDupWindow = 2 * time.Minute
)

// JournalSubject is the subject node publishes its journal batches on.
func JournalSubject(node int) string { return "smppd.journal." + strconv.Itoa(node) }

// journalSubjects: the nodes' batches, and the base a compaction writes
// (storage/jetstream JournalFilter, BaseData, BaseDone).
var journalSubjects = []string{"smppd.journal.*", "smppd.base.*"}

// JournalConfig is the journal stream's configuration for replicas.
func JournalConfig(replicas int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        JournalStream,
		Description: "smppd store journal: every node's writes, in batches (docs/CLUSTER.md)",
		Subjects:    journalSubjects,
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
		Duplicates:  journalDupWindow,
		MaxMsgSize:  maxPayload,
		Discard:     jetstream.DiscardNew,
	}
}

// ensure creates the streams and buckets that are missing; every node
// does it at every start, so the first to start creates them and the rest
// find them. Each call is retried (a meta leader just elected may not
// answer the first) until ctx ends.
func (n *Node) ensure(ctx context.Context) error {
	err := retry(ctx, func(c context.Context) error {
		if st, err := n.js.Stream(c, JournalStream); err == nil {
			// A stream made before compaction existed lacks the base's
			// subjects.
			cfg := st.CachedInfo().Config
			if slices.Equal(cfg.Subjects, journalSubjects) {
				return nil
			}
			cfg.Subjects = journalSubjects
			_, err = n.js.UpdateStream(c, cfg)
			return err
		}
		_, err := n.js.CreateStream(c, JournalConfig(n.o.Replicas))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: stream %s: %w", JournalStream, err)
	}
	cfg := jetstream.KeyValueConfig{
		Bucket:      NodesBucket,
		Description: "smppd live nodes: one key per node_id, refreshed every heartbeat",
		History:     1,
		TTL:         time.Duration(LeaseBeats) * n.o.Heartbeat,
		Storage:     jetstream.FileStorage,
		Replicas:    n.o.Replicas,
	}
	n.nodes, err = n.bucket(ctx, cfg)
	return err
}

// bucket opens the key-value bucket cfg names, creating it if missing (a
// node that loses the race to create it opens the winner's), retried
// until ctx ends.
func (n *Node) bucket(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := retry(ctx, func(c context.Context) error {
		var err error
		if kv, err = n.js.KeyValue(c, cfg.Bucket); err != nil {
			kv, err = n.js.CreateKeyValue(c, cfg)
			if errors.Is(err, jetstream.ErrBucketExists) || errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				kv, err = n.js.KeyValue(c, cfg.Bucket)
			}
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: bucket %s: %w", cfg.Bucket, err)
	}
	return kv, nil
}

// retry calls fn with a short deadline of its own until it succeeds or
// ctx ends, returning the last error.
func retry(ctx context.Context, fn func(context.Context) error) error {
	for {
		c, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := fn(c)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
