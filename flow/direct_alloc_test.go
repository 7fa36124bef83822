//go:build !race

package flow

import (
	"testing"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

// TestSubmitDirectAllocsDisk: the HTTP API's path on the disk store with
// sync = "always" (a batch of direct submits kept in a DirectHold, one
// wait for their group commit, the release handing them over) allocates
// nothing in steady state.
func TestSubmitDirectAllocsDisk(t *testing.T) {
	st, err := disk.Open(disk.Options{Dir: t.TempDir(), Sync: wal.SyncAlways, CompactEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	th := newHub(t, hubSpec{mod: func(o *Options) {
		o.Messages, o.Committer, o.Durable = st, st.Committer(), true
	}, dmod: func(o *delivery.Options) { o.Messages, o.Holds, o.Durable = st, st.Holds(), true }})
	th.conns[0].auto = true
	th.Attach(&discard{})
	if err := th.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = th.Stop(t.Context()) })
	p := newUser(t, "alice", userSpec{limits: accounts.UserLimits{Balance: accounts.Micros(1 << 56), Quota: 1 << 56, Throughput: 1e9}})
	plain := sm("12345", "4915112345678", "hello world")
	var d DirectHold
	req := &DirectRequest{User: p.Bind.User(), SM: plain}
	kept := 0
	run := func() {
		var pos uint64
		for range 16 {
			req.ID, req.Hold, req.Written = th.NextID(), &d, 0
			if st, r := th.SubmitDirect(req); st != codec.StatusOK {
				t.Fatalf("SubmitDirect: %v %v", st, r)
			}
			pos = max(pos, req.Written)
		}
		kept += len(d.hands)
		if err := th.WaitDurable(pos); err != nil {
			t.Fatal(err)
		}
		th.Release(&d, true)
	}
	for range 300 { // warm the store's index and the pools
		run()
	}
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("16 direct submits, their wait and release on the disk store allocate %.2f times", n)
	}
	if kept == 0 {
		t.Fatal("no message was kept for its release: the gate did not cover the hold")
	}
}
