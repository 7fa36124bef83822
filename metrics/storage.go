package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/smppd/smppd/delivery"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// storageDescs are the durable store's metrics (storage.Stats beyond the
// record and id counts collector.go reports for every store). A memory
// store reports 0 for the disk ones.
type storageDescs struct {
	byState, lateFinal, heldShare, recovered                *prometheus.Desc
	deadLetters, deadAdded, deadDropped                     *prometheus.Desc
	bytes, maxDisk, segments, backlog, compactions, compact *prometheus.Desc
	writeErrs, diskFull, devFailed, fsyncs, fsync, batch    *prometheus.Desc
	batchMax, fsyncTime, lazy, lingers, fsyncFails          *prometheus.Desc
	groups, groupsWoken, groupWait, commitAnswer            *prometheus.Desc
	recovery, replayEntries, replayCorrupt                  *prometheus.Desc

	// What the hub and the delivery side do with a durable store.
	deferred, deferredNow, deferredFull, kept               *prometheus.Desc
	rerouted                                                *prometheus.Desc
	handOffWaits                                            *prometheus.Desc
	scheduled, scheduledNow, redriven, redrivenDup, waiting *prometheus.Desc
	redriveTime, lateRcpt, deadIn, retryOver, retrying      *prometheus.Desc
	unkept, unkeptKept, unkeptLost                          *prometheus.Desc
}

func (s *storageDescs) init(d func(name, help string, labels ...string) *prometheus.Desc) {
	s.byState = d("smppd_storage_records_by_state", "Message records held, by recorded state (a state decided at acceptance and not yet reached counts as ENROUTE).", "state")
	s.lateFinal = d("smppd_storage_late_final_total", "State changes refused because the record was already final (the first final state wins): late or duplicate receipts.")
	s.heldShare = d("smppd_held_share_refused_total", "Receipts and MO refused by the hold store because their user held its share ([delivery] max_held_per_user).")
	s.recovered = d("smppd_storage_recovered_total", "Non-final records the store handed back at start (re-driven or waiting for their receipt).")
	s.deadLetters = d("smppd_dead_letters", "Dead letters kept: MO with no route and receipts for unknown ids, answered ESME_ROK upstream (GET /v1/dead-letters).")
	s.deadAdded = d("smppd_dead_letters_added_total", "Dead letters added.")
	s.deadDropped = d("smppd_dead_letters_dropped_total", "Dead letters dropped by the list's bound or after message_ttl.")
	s.bytes = d("smppd_storage_bytes", "Bytes of the disk store's log segments (compare smppd_storage_max_disk_bytes).")
	s.maxDisk = d("smppd_storage_max_disk_bytes", "[storage] max_disk: new submits are refused past 90% of it.")
	s.segments = d("smppd_storage_segments", "Log segment files in the data directory.")
	s.backlog = d("smppd_storage_compaction_backlog_bytes", "Bytes in segments compaction could reclaim now.")
	s.compactions = d("smppd_storage_compactions_total", "Log segments removed by compaction.")
	s.compact = d("smppd_storage_compacted_entries_total", "Live entries compaction copied forward out of old segments.")
	s.writeErrs = d("smppd_storage_write_errors_total", "Store writes refused: full disk (past the high-water mark, ENOSPC) or a failed device (EIO).")
	s.diskFull = d("smppd_storage_disk_full", "1 while new submits are refused ESME_RMSGQFUL for a full disk (past 90% of max_disk, or ENOSPC); GET /v1/ready answers 503.")
	s.devFailed = d("smppd_storage_device_failed", "1 while the device fails writes or fsyncs (EIO): new submits are refused until a retried write succeeds.")
	s.batchMax = d("smppd_storage_group_commit_batch_max", "Most entries made durable by one group commit.")
	s.fsyncs = d("smppd_storage_fsyncs_total", "Group commits (fsyncs) made by the disk store.")
	s.fsyncTime = d("smppd_storage_fsync_time_seconds_total", "Seconds the disk store spent in fsyncs (with sync = always, a group written and synced in one call counts its write too); over smppd_storage_fsyncs_total, the mean fsync time.")
	s.fsync = d("smppd_storage_fsync_seconds", "Duration of the disk store's fsyncs: the latest, the median and 99th percentile of the recent ones, and the longest.", "stat")
	s.batch = d("smppd_storage_group_commit_batch", "Mean entries made durable by one group commit.")
	s.groups = d("smppd_storage_group_commits_total", "Group commits (one write of the entries appended meanwhile) made by the disk store.")
	s.groupWait = d("smppd_storage_group_wait_seconds_total", "Summed over the group commits, seconds from the group's first entry that wakes the log to the start of its write (the fsync in progress and the previous commit's answers); over smppd_storage_group_commits_woken_total, the mean.")
	s.groupsWoken = d("smppd_storage_group_commits_woken_total", "Group commits that an entry waking the log started (not those only lazy entries or a sync started): the groups smppd_storage_group_wait_seconds_total sums over.")
	s.commitAnswer = d("smppd_storage_commit_answer_seconds_total", "Seconds the disk store's log spent after each commit answering what it made durable (the deferred answers posted, the messages handed over), which the next group's write waits for.")
	s.lingers = d("smppd_storage_commit_lingers_total", "The log's waits after a commit for the requests its answers bring back (sync = always, small windows), by how they ended: filled (the next group holds them) or cut (by the deadline, the mean fsync up to 2 ms; the log then skips the next 1, 2, 4 ... 64 commits).", "ended")
	s.lazy = d("smppd_storage_lazy_entries_total", "Acceptance entries (no answer waits on them, so they do not wake the log) by how they were written: rode (with the group, and fsync, a later write started) or alone (after the log's 2 ms wait, or for a sync).", "written")
	s.fsyncFails = d("smppd_storage_fsync_failures_total", "Failed fsyncs of the disk store's log (logged, event=wal_fsync_failed); with sync = always or interval what each covered is written again from memory before the retry.")
	s.recovery = d("smppd_storage_recovery_seconds", "Seconds the disk store took at start to replay its log and rebuild its index.")
	s.replayEntries = d("smppd_storage_replay_entries", "Log entries replayed at start.")
	s.deferred = d("smppd_submits_deferred_total", "Submit answers that waited for the store's commit (sync = \"always\": the fsync) before ESME_ROK.")
	s.deferredNow = d("smppd_submits_deferred", "Submit answers waiting for the store's commit now.")
	s.deferredFull = d("smppd_submits_deferred_full_total", "Submits refused ESME_RMSGQFUL because too many answers were waiting for the disk.")
	s.handOffWaits = d("smppd_submits_handoff_waits_total", "Answered messages whose connector's ring had no room when their commit handed them over: held in the hub and offered again every 20 ms.")
	s.kept = d("smppd_messages_kept_at_stop_total", "Messages a stopping connector still held, kept pending in the store and sent again at the next start.")
	s.rerouted = d("smppd_messages_rerouted_total", "Messages a connector removed while running gave back (queued, or held without an answer), routed again by the routes in force.")
	s.scheduled = d("smppd_messages_scheduled_total", "Messages scheduled far ahead, held in the hub (not a connector's queue) until their time.")
	s.scheduledNow = d("smppd_messages_held_in_hub", "Messages held in the hub now: far-future schedules, and re-driven messages waiting for their connector's room.")
	s.redriven = d("smppd_messages_redriven_total", "Accepted messages sent to their connector again at start, with the same message id, because the previous run ended before an upstream took them.")
	s.redrivenDup = d("smppd_messages_redriven_possible_duplicates_total", "Of the re-driven messages, those whose time had come in the previous run: it may have sent them already, so the upstream may see them twice; and the receipts of outcomes decided at acceptance (the simulator's) sent again when due already, which the ESME may see twice.")
	s.waiting = d("smppd_messages_awaiting_receipt_at_start_total", "Non-final messages found at start that an upstream had accepted: not sent again, waiting for their receipts.")
	s.redriveTime = d("smppd_redrive_seconds", "Seconds the start-up re-drive of the store's non-final messages took (after the store's own recovery).")
	s.lateRcpt = d("smppd_receipts_late_dropped_total", "Upstream receipts for messages already final (the first final state wins): dropped, nothing sent to the ESME.")
	s.deadIn = d("smppd_dead_letters_total", "Upstream deliver_sm answered ESME_ROK and kept as dead letters (GET /v1/dead-letters), by kind: mo (no MO route or user, not encodable), receipt (an id not ours).", "kind")
	s.retryOver = d("smppd_deliveries_retry_overflow_total", "Receipt and MO retries moved to the hold store because their user's share of the retry schedule (max_held_per_user) or max_held was reached.")
	s.retrying = d("smppd_deliveries_retrying", "Receipts and MO waiting in memory for a retry now.")
	s.unkept = d("smppd_unkept", "Writes the store refused while its device was full or failing, waiting in memory until it takes them, by what: receipt (a receipt no one sends again: the simulator's, one decided here), state (an acceptance or failure of an accepted message).", "what")
	s.unkeptKept = d("smppd_unkept_kept_total", "Of those, written once the store took them again, by what.", "what")
	s.unkeptLost = d("smppd_unkept_lost_total", "Of those, lost because too many waited already (receipt: max_waiting; state: 65536), by what.", "what")
	s.replayCorrupt = d("smppd_storage_replay_corrupt_total", "Corrupt entries or segment tails skipped at start (logged with the file).")
}

// stateNames label smppd_storage_records_by_state.
var stateNames = func() [storage.NumStates]string {
	var n [storage.NumStates]string
	for i := range n {
		n[i] = msg.State(i).String()
	}
	return n
}()

func (s *storageDescs) collect(ch chan<- prometheus.Metric, st *storage.Stats) {
	for i, n := range st.RecordsByState {
		if i == 0 {
			continue // no state 0
		}
		gauge(ch, s.byState, float64(n), stateNames[i])
	}
	counter(ch, s.lateFinal, st.LateFinal)
	counter(ch, s.heldShare, st.HeldShareRefused)
	counter(ch, s.recovered, st.Recovered)
	gauge(ch, s.deadLetters, float64(st.DeadLetters))
	counter(ch, s.deadAdded, st.DeadLettersAdded)
	counter(ch, s.deadDropped, st.DeadLettersDropped)
	gauge(ch, s.bytes, float64(st.BytesUsed))
	gauge(ch, s.maxDisk, float64(st.MaxDisk))
	gauge(ch, s.segments, float64(st.Segments))
	gauge(ch, s.backlog, float64(st.CompactBacklog))
	counter(ch, s.compactions, st.Compactions)
	counter(ch, s.compact, st.Compacted)
	counter(ch, s.writeErrs, st.WriteErrors)
	gauge(ch, s.diskFull, flag(st.DiskFull))
	gauge(ch, s.devFailed, flag(st.DeviceFailed))
	counter(ch, s.fsyncs, st.Fsyncs)
	emit(ch, s.fsyncTime, prometheus.CounterValue, st.FsyncTotal.Seconds(), nil)
	gauge(ch, s.fsync, st.FsyncLast.Seconds(), "last")
	gauge(ch, s.fsync, st.FsyncMax.Seconds(), "max")
	gauge(ch, s.fsync, st.FsyncP50.Seconds(), "p50")
	gauge(ch, s.fsync, st.FsyncP99.Seconds(), "p99")
	gauge(ch, s.batch, st.GroupCommitBatch)
	gauge(ch, s.batchMax, float64(st.GroupCommitMax))
	counter(ch, s.groups, st.GroupCommits)
	counter(ch, s.groupsWoken, st.GroupsWoken)
	emit(ch, s.groupWait, prometheus.CounterValue, st.GroupWait.Seconds(), nil)
	emit(ch, s.commitAnswer, prometheus.CounterValue, st.CommitAnswer.Seconds(), nil)
	counter(ch, s.lingers, st.LingerFilled, "filled")
	counter(ch, s.lingers, st.LingerCut, "cut")
	counter(ch, s.lazy, st.LazyRode, "rode")
	counter(ch, s.lazy, st.LazyAlone, "alone")
	counter(ch, s.fsyncFails, st.FsyncFailures)
	gauge(ch, s.recovery, st.Recovery.Seconds())
	gauge(ch, s.replayEntries, float64(st.ReplayEntries))
	counter(ch, s.replayCorrupt, st.ReplayCorrupt)
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// hub reports the hub's durability figures.
func (s *storageDescs) hub(ch chan<- prometheus.Metric, st *flow.Stats) {
	counter(ch, s.deferred, st.Deferred)
	gauge(ch, s.deferredNow, float64(st.DeferredNow))
	counter(ch, s.deferredFull, st.DeferredFull)
	counter(ch, s.handOffWaits, st.HandOffWaits)
	counter(ch, s.kept, st.KeptAtStop)
	counter(ch, s.rerouted, st.Rerouted)
	counter(ch, s.scheduled, st.Scheduled)
	gauge(ch, s.scheduledNow, float64(st.ScheduledNow))
	counter(ch, s.redriven, st.Redriven)
	counter(ch, s.redrivenDup, st.RedrivenDup)
	counter(ch, s.waiting, st.RedriveWaiting)
	gauge(ch, s.redriveTime, st.RedriveTime.Seconds())
	gauge(ch, s.unkept, float64(st.UnkeptNow), "state")
	counter(ch, s.unkeptKept, st.UnkeptKept, "state")
	counter(ch, s.unkeptLost, st.UnkeptLost, "state")
}

// deliveries reports the delivery side's durability figures.
func (s *storageDescs) deliveries(ch chan<- prometheus.Metric, st *delivery.Stats) {
	counter(ch, s.lateRcpt, st.ReceiptsLate)
	counter(ch, s.deadIn, st.DeadMO, "mo")
	counter(ch, s.deadIn, st.DeadReceipts, "receipt")
	counter(ch, s.retryOver, st.RetryOverflow)
	gauge(ch, s.retrying, float64(st.RetryingNow))
	gauge(ch, s.unkept, float64(st.UnkeptNow), "receipt")
	counter(ch, s.unkeptKept, st.UnkeptKept, "receipt")
	counter(ch, s.unkeptLost, st.UnkeptLost, "receipt")
}
