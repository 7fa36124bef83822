package flow

import (
	"testing"
	"time"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/storage/disk"
	"github.com/smppd/smppd/storage/disk/wal"
)

// slowSyncFS is the operating system's file layer with every fsync taking
// at least d longer: a slow disk, so a group commit outlasts the
// simulator's receipt.
type slowSyncFS struct {
	wal.OSFS
	d time.Duration
}

func (f slowSyncFS) OpenFile(name string, flag int) (wal.File, error) {
	fl, err := f.OSFS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return slowSyncFile{File: fl, d: f.d}, nil
}

type slowSyncFile struct {
	wal.File
	d time.Duration
}

func (f slowSyncFile) Sync() error {
	time.Sleep(f.d)
	return f.File.Sync()
}

// With sync = "always", a slow fsync and a simulator that reports each
// receipt as soon as it has the message, every receipt reaches the ESME
// after the submit_sm_resp carrying its id: the message goes to its
// connector only once its answer is out (handoff.go). Before, the
// connector had the message before the commit, and its receipt overtook
// the answer.
func TestDiskReceiptNeverBeforeItsAnswer(t *testing.T) {
	st, err := disk.Open(disk.Options{Dir: t.TempDir(), Sync: wal.SyncAlways, CompactEvery: -1,
		FS: slowSyncFS{d: 3 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() }) // after the hub's stop (cleanups run last first)
	s := newRealSim(t, "sim", 0, sim.Options{ReceiptDelay: sim.ReceiptsAtOnce})
	e := startEnv(t, envSpec{routes: defaultRoutes("sim"), connectors: []connector.Connector{s}, msgs: st, holds: st.Holds(),
		mod: func(o *Options) {
			o.Committer, o.Durable, o.Holds = st.Committer(), true, st.Holds()
		},
		dmod: func(o *delivery.Options) { o.Durable, o.DeadLetters = true, st.DeadLetters() }})
	e.hub.Attach(e.srv)
	e.addUser(t, "alice", userSpec{receipts: true})
	c := e.bind(t, codec.BindTransceiverID, "alice")

	const n, window = 200, 20
	answered := make(map[string]bool, n)
	seqs := make(map[uint32]bool, window)
	sent, receipts := 0, 0
	send := func() {
		p := sm("12345", "4915112345678", "receipt please")
		p.RegisteredDelivery = 1
		seq := c.NextSeq()
		b, err := p.Append(nil, codec.Header{CommandID: codec.SubmitSMID, Sequence: seq})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(b); err != nil {
			t.Fatal(err)
		}
		seqs[seq] = true
		sent++
	}
	for sent < window {
		send()
	}
	for len(answered) < n || receipts < n {
		f := c.read()
		switch f.h.CommandID {
		case codec.SubmitSMRespID:
			var r codec.SubmitSMResp
			if err := r.Decode(f.body); err != nil || f.h.Status != codec.StatusOK || !seqs[f.h.Sequence] {
				t.Fatalf("submit_sm_resp seq %d: %v %v", f.h.Sequence, f.h.Status, err)
			}
			delete(seqs, f.h.Sequence)
			answered[string(r.MessageID)] = true
			if sent < n {
				send()
			}
		case codec.DeliverSMID:
			var d codec.SM
			if err := d.Decode(f.body); err != nil {
				t.Fatal(err)
			}
			id, _ := d.TLVs.CString(codec.TagReceiptedMessageID)
			if !answered[string(id)] {
				t.Fatalf("receipt %d for %q reached the ESME before the submit_sm_resp carrying its id (%d answers so far)",
					receipts+1, id, len(answered))
			}
			receipts++
			var r codec.DeliverSMResp
			b, _ := r.Append(nil, codec.Header{CommandID: codec.DeliverSMRespID, Sequence: f.h.Sequence})
			if err := c.Write(b); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected %v", f.h.CommandID)
		}
	}
	if s := e.stats(); s.Deferred == 0 {
		t.Fatal("no answer waited for the commit: the test did not reach the deferred path")
	}
}
