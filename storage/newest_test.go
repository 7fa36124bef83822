package storage

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/smppd/smppd/msg"
)

func TestNewestKeepsTheHighest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var top Newest
	for _, n := range []int{0, 1, 2, 7, 100} {
		for _, offered := range []int{0, 1, 5, 50, 1000} {
			all := make([]msg.ID, offered)
			top.Reset(n)
			for i := range all {
				all[i] = msg.ID(rng.Uint64N(500)) // duplicates included
				top.Offer(all[i])
			}
			slices.Sort(all)
			slices.Reverse(all)
			want := all[:min(n, len(all))]
			if got := top.Sorted(); !slices.Equal(got, want) {
				t.Fatalf("n=%d offered=%d: Sorted = %v, want %v", n, offered, got, want)
			}
		}
	}
}

func TestQueryMatches(t *testing.T) {
	src, dst := []byte("ACME"), []byte("+4917012345678")
	cases := []struct {
		q    Query
		want bool
	}{
		{Query{Addr: []byte("4917012345678")}, true},
		{Query{Addr: []byte("+4917012345678")}, true},
		{Query{Addr: []byte("917012345678")}, false},
		{Query{Addr: []byte("ACME")}, false},
		{Query{Addr: []byte("ACME"), Fields: MatchSource}, true},
		{Query{Addr: []byte("ACME"), Fields: MatchSource | MatchDest}, true},
		{Query{Addr: []byte("4917012345678"), SystemID: "bob"}, false},
		{Query{Addr: []byte("4917012345678"), SystemID: "alice"}, true},
		{Query{Addr: []byte("4917012345678"), Since: 101}, false},
		{Query{Addr: []byte("4917012345678"), Since: 100}, true},
		{Query{Addr: []byte("4917012345678"), Before: 7}, false},
		{Query{Addr: []byte("4917012345678"), Before: 8}, true},
		{Query{}, false},
		{Query{Addr: []byte("+")}, false},
	}
	for _, c := range cases {
		if got := c.q.Matches(7, "alice", 100, src, dst); got != c.want {
			t.Errorf("%+v: Matches = %v, want %v", c.q, got, c.want)
		}
	}
}
