package metrics_test

import (
	"testing"
	"time"

	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/metrics"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

type fixedStorage struct{ st storage.Stats }

func (f fixedStorage) Stats() storage.Stats { return f.st }

// TestStorageMetrics gathers a durable store's snapshot and checks each
// figure lands on its metric with its labels.
func TestStorageMetrics(t *testing.T) {
	st := storage.Stats{
		LateFinal: 4, HeldShareRefused: 5, Recovered: 6, DeadLetters: 7, DeadLettersAdded: 8, DeadLettersDropped: 1,
		BytesUsed: 1 << 30, MaxDisk: 8 << 30, Segments: 17, CompactBacklog: 1 << 20, Compactions: 3, Compacted: 99,
		WriteErrors: 2, DiskFull: true, Fsyncs: 1000, FsyncLast: time.Millisecond, FsyncP50: 500 * time.Microsecond,
		FsyncP99: 3 * time.Millisecond, FsyncMax: 20 * time.Millisecond, GroupCommitBatch: 12.5, GroupCommitMax: 64,
		Recovery: 1500 * time.Millisecond, ReplayEntries: 123456, ReplayCorrupt: 1,
		LazyRode: 11, LazyAlone: 3, LingerFilled: 40, LingerCut: 6, FsyncFailures: 2,
		GroupCommits: 900, GroupsWoken: 700, GroupWait: 450 * time.Millisecond, CommitAnswer: 90 * time.Millisecond,
	}
	st.RecordsByState[msg.StateEnroute] = 10
	st.RecordsByState[msg.StateDelivered] = 20
	m := metrics.New(metrics.Options{})
	m.Attach(metrics.Sources{Storage: fixedStorage{st}})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := families{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	want := []struct {
		name   string
		labels []string
		v      float64
	}{
		{"smppd_storage_records_by_state", []string{"state", "ENROUTE"}, 10},
		{"smppd_storage_records_by_state", []string{"state", "DELIVERED"}, 20},
		{"smppd_storage_records_by_state", []string{"state", "REJECTED"}, 0},
		{"smppd_storage_late_final_total", nil, 4},
		{"smppd_held_share_refused_total", nil, 5},
		{"smppd_storage_recovered_total", nil, 6},
		{"smppd_dead_letters", nil, 7},
		{"smppd_dead_letters_added_total", nil, 8},
		{"smppd_dead_letters_dropped_total", nil, 1},
		{"smppd_storage_bytes", nil, 1 << 30},
		{"smppd_storage_max_disk_bytes", nil, 8 << 30},
		{"smppd_storage_segments", nil, 17},
		{"smppd_storage_compaction_backlog_bytes", nil, 1 << 20},
		{"smppd_storage_compactions_total", nil, 3},
		{"smppd_storage_compacted_entries_total", nil, 99},
		{"smppd_storage_write_errors_total", nil, 2},
		{"smppd_storage_disk_full", nil, 1},
		{"smppd_storage_device_failed", nil, 0},
		{"smppd_storage_fsyncs_total", nil, 1000},
		{"smppd_storage_fsync_seconds", []string{"stat", "p99"}, 0.003},
		{"smppd_storage_fsync_seconds", []string{"stat", "max"}, 0.02},
		{"smppd_storage_group_commit_batch", nil, 12.5},
		{"smppd_storage_group_commit_batch_max", nil, 64},
		{"smppd_storage_group_commits_total", nil, 900},
		{"smppd_storage_group_commits_woken_total", nil, 700},
		{"smppd_storage_group_wait_seconds_total", nil, 0.45},
		{"smppd_storage_commit_answer_seconds_total", nil, 0.09},
		{"smppd_storage_lazy_entries_total", []string{"written", "rode"}, 11},
		{"smppd_storage_lazy_entries_total", []string{"written", "alone"}, 3},
		{"smppd_storage_commit_lingers_total", []string{"ended", "filled"}, 40},
		{"smppd_storage_commit_lingers_total", []string{"ended", "cut"}, 6},
		{"smppd_storage_fsync_failures_total", nil, 2},
		{"smppd_storage_recovery_seconds", nil, 1.5},
		{"smppd_storage_replay_entries", nil, 123456},
		{"smppd_storage_replay_corrupt_total", nil, 1},
	}
	for _, w := range want {
		if got[w.name] == nil {
			t.Errorf("%s not exported", w.name)
			continue
		}
		if v := got.value(w.name, w.labels...); v != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.v)
		}
	}
	if n := len(got["smppd_storage_records_by_state"].GetMetric()); n != storage.NumStates-1 {
		t.Errorf("%d state series, want one per SMPP state (%d)", n, storage.NumStates-1)
	}
}

type fixedHub struct{ st flow.Stats }

func (f fixedHub) Stats() flow.Stats           { return f.st }
func (f fixedHub) UserStats() []flow.UserStats { return nil }

type fixedDeliveries struct{ st delivery.Stats }

func (f fixedDeliveries) Stats() delivery.Stats { return f.st }

// TestDurabilityMetrics: the hub's and the delivery side's durability
// figures land on their metrics.
func TestDurabilityMetrics(t *testing.T) {
	m := metrics.New(metrics.Options{})
	m.Attach(metrics.Sources{
		Hub: fixedHub{flow.Stats{Deferred: 9, DeferredNow: 2, DeferredFull: 1, KeptAtStop: 3, Scheduled: 4, ScheduledNow: 5,
			Redriven: 6, RedrivenDup: 5, RedriveWaiting: 7, RedriveTime: 250 * time.Millisecond}},
		Deliveries: fixedDeliveries{delivery.Stats{ReceiptsLate: 8, DeadMO: 2, DeadReceipts: 3, RetryOverflow: 4, RetryingNow: 6}},
	})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := families{}
	for _, mf := range mfs {
		got[mf.GetName()] = mf
	}
	for _, w := range []struct {
		name   string
		labels []string
		v      float64
	}{
		{"smppd_submits_deferred_total", nil, 9},
		{"smppd_submits_deferred", nil, 2},
		{"smppd_submits_deferred_full_total", nil, 1},
		{"smppd_messages_kept_at_stop_total", nil, 3},
		{"smppd_messages_scheduled_total", nil, 4},
		{"smppd_messages_held_in_hub", nil, 5},
		{"smppd_messages_redriven_total", nil, 6},
		{"smppd_messages_redriven_possible_duplicates_total", nil, 5},
		{"smppd_messages_awaiting_receipt_at_start_total", nil, 7},
		{"smppd_redrive_seconds", nil, 0.25},
		{"smppd_receipts_late_dropped_total", nil, 8},
		{"smppd_dead_letters_total", []string{"kind", "mo"}, 2},
		{"smppd_dead_letters_total", []string{"kind", "receipt"}, 3},
		{"smppd_deliveries_retry_overflow_total", nil, 4},
		{"smppd_deliveries_retrying", nil, 6},
	} {
		if got[w.name] == nil {
			t.Errorf("%s not exported", w.name)
		} else if v := got.value(w.name, w.labels...); v != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.v)
		}
	}
}
