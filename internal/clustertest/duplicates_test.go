//go:build linux && !race

package clustertest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"
)

// dupCounters are the counters of every path by which a node may send a
// receipt another node sends too (docs/CLUSTER.md, Failure modes and
// duplicates): messages sent upstream again (re-drives, take-overs, a
// shared queue's redelivered batch, a take-over's later sends when its
// node comes back alive), each bringing a receipt of its own, and held
// items delivered again after their deliverer's lease lapsed or went out
// before their delivery marker was journaled.
var dupCounters = []string{
	"smppd_messages_redriven_possible_duplicates_total",
	"smppd_cluster_pulled_possible_duplicates_total",
	"smppd_cluster_held_claims_lapsed_total",
	"smppd_cluster_held_retaken_total",
	"smppd_cluster_held_claims_unkeyed_total",
	"smppd_cluster_held_tried_unwritten_total",
	"smppd_cluster_takeover_alive_possible_duplicates_total",
}

// dupCounts are dupCounters' values by "nodeN:name", the zero ones left
// out.
type dupCounts map[string]uint64

// readDupCounts reads dupCounters from one GET /metrics per node.
func readDupCounts(t *testing.T, nodes ...*node) dupCounts {
	t.Helper()
	c := dupCounts{}
	for _, n := range nodes {
		vs, err := metrics(n.adminURL(), dupCounters...)
		if err != nil {
			t.Errorf("node %d: %v", n.c.id, err)
			continue
		}
		for name, v := range vs {
			if v > 0 {
				c[fmt.Sprintf("node%d:%s", n.c.id, name)] = uint64(v)
			}
		}
	}
	return c
}

func (c dupCounts) sum() uint64 {
	s := uint64(0)
	for _, v := range c {
		s += v
	}
	return s
}

// since is what each counter of c counted after base was read from the
// same process.
func (c dupCounts) since(base dupCounts) dupCounts {
	d := dupCounts{}
	for k, v := range c {
		if v > base[k] {
			d[k] = v - base[k]
		}
	}
	return d
}

// plus adds d's counts to a copy of c (one node's runs before and after
// a restart share their names).
func (c dupCounts) plus(d dupCounts) dupCounts {
	s := maps.Clone(c)
	for k, v := range d {
		s[k] += v
	}
	return s
}

// checkDuplicates fails t when the ESMEs saw more duplicate receipts
// (dups, in b) than the nodes counted as possible duplicates: every
// duplicate a node can send is counted, so more seen than counted is a
// path unaccounted. It logs each duplicate's receiving nodes and times.
func checkDuplicates(t *testing.T, when string, b *book, dups int, counted dupCounts) {
	t.Helper()
	t.Logf("%s: %d duplicate receipts, %d possible duplicates counted %v", when, dups, counted.sum(), counted)
	if uint64(dups) > counted.sum() {
		t.Errorf("%s: %d duplicate receipts, more than the %d possible duplicates the nodes counted; by acknowledging node: %v",
			when, dups, counted.sum(), duplicated(b))
	} else if dups > 0 {
		t.Logf("%s: duplicate receipts, by acknowledging node: %v", when, duplicated(b))
	}
}

// duplicated returns the ids received more than once, by the node that
// acknowledged them, with each receipt's receiving node and time.
func duplicated(b *book) map[int][]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[int][]string{}
	for id, n := range b.finals {
		if n > 1 {
			out[b.acks[id]] = append(out[b.acks[id]], fmt.Sprintf("%s %v", id, b.via[id]))
		}
	}
	return out
}

// clusterDupSum is the cluster's total of possible duplicates (every
// run's, cluster.DuplicatesBucket) as GET /v1/cluster on n answers it,
// retried while the bucket elects a leader.
func clusterDupSum(t *testing.T, n *node) uint64 {
	t.Helper()
	var last error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		resp, err := httpClient.Get(n.adminURL() + "/v1/cluster")
		if err != nil {
			last = err
			continue
		}
		var st struct {
			Totals struct {
				Duplicates struct {
					Sum uint64 `json:"sum"`
				} `json:"duplicates"`
			} `json:"totals"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK {
			return st.Totals.Duplicates.Sum
		}
		last = fmt.Errorf("%s: %v", resp.Status, err)
	}
	t.Fatalf("node %d: GET /v1/cluster: %v", n.c.id, last)
	return 0
}
