package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/flow"
)

// collector turns the components' snapshots into const metrics at scrape
// time, so the message path keeps only its own atomic counters.
type collector struct {
	src   *atomic.Pointer[Sources]
	descs []*prometheus.Desc
	names []string

	// engine
	connAccepted, connRefused, sessionsOpen, sessionsBound                   *prometheus.Desc
	windowThrottled, queueWaits, respTimeouts, deliverRetries, nacks, panics *prometheus.Desc
	slowConsumers, pdus                                                      *prometheus.Desc
	inputFloods, unexpectedResps, deliverUnanswered, outboundBytes           *prometheus.Desc
	bindsOverShare, authQueueFull, tlsHandshakeTimeouts, tlsWriteTimeouts    *prometheus.Desc
	proxyRefusals                                                            *prometheus.Desc

	// accounts
	authCacheHits, authCacheMisses, bindsSlowed, bindsBlocked *prometheus.Desc
	userBinds, userBalance, userQuotaLeft                     *prometheus.Desc

	// hub
	msgAccepted, msgRefused, failovers, refunds                    *prometheus.Desc
	rcptGenerated, rcptDelivered, rcptUnknown, rcptHeld, rcptExp   *prometheus.Desc
	moDelivered, moHeld, moExpired, moUnroutable, moIncomplete     *prometheus.Desc
	deliveriesRetried, deliveriesFailed, heldDropped, heldItems    *prometheus.Desc
	deliveriesWaited, deliveriesWaiting, deliveriesWaitFull        *prometheus.Desc
	deliveriesWaitOver, receiptBacklogUsers, receiptBacklogs       *prometheus.Desc
	userSubmits, userParts, userRefused, userReceipts, userMO      *prometheus.Desc
	connUp, connQueue, connBinds, connSubmitted, connAcceptedUp    *prometheus.Desc
	connFailed, connRetried, connReceipts, connMO, connReconnects  *prometheus.Desc
	connIDsNotKept, connIDsPending, connIDsLost                    *prometheus.Desc
	records, upstreamIDs, heldUsers, recordsEvicted, recordsExpire *prometheus.Desc
	upstreamEvicted, upstreamExpired, upstreamRejected, storeErrs  *prometheus.Desc
	store                                                          storageDescs
	admin                                                          adminDescs
	policy                                                         policyDescs
}

func newCollector() *collector {
	c := &collector{}
	d := c.desc
	c.connAccepted = d("smppd_connections_accepted_total", "SMPP connections accepted (plain and TLS).")
	c.connRefused = d("smppd_connections_refused_total", "SMPP connections refused by max_connections or max_connections_per_ip.")
	c.sessionsOpen = d("smppd_sessions_open", "SMPP sessions open now, bound or not.")
	c.sessionsBound = d("smppd_sessions_bound", "SMPP sessions bound now (transmitter, receiver or transceiver).")
	c.windowThrottled = d("smppd_max_in_flight_throttled_total", "MT requests answered ESME_RTHROTTLED because the session had max_in_flight requests unanswered.")
	c.queueWaits = d("smppd_submit_queue_waits_total", "Times an MT request was held unread because every connector queue it could use was full (queue_full_wait); each retry counts.")
	c.respTimeouts = d("smppd_response_timeouts_total", "Requests we sent (enquire_link, unbind, deliver_sm) unanswered within responseTimerSecs.")
	c.deliverRetries = d("smppd_deliver_resends_total", "deliver_sm re-sent on the same session after a response timeout.")
	c.nacks = d("smppd_generic_nacks_sent_total", "generic_nack PDUs we sent (undecodable or unknown requests).")
	c.panics = d("smppd_panics_total", "Panics recovered at the session boundary (a bug: the session was closed).")
	c.slowConsumers = d("smppd_slow_consumers_total", "Sessions closed as slow consumers: outbound backlog over max_outbound_backlog (max_outbound_unbound before bind), over 64 KiB while all sessions together hold more than max_outbound_total, or no deliver_sm answered for slow_consumer_timeout.")
	c.inputFloods = d("smppd_input_floods_total", "Sessions whose unread input passed max_inbound_buffer while they could not read: closed while binding, or their queue_full_wait ended early.")
	c.unexpectedResps = d("smppd_unexpected_responses_total", "Response PDUs dropped because they answered nothing we sent (never answered; max_unexpected_responses in a row close the connection).")
	c.deliverUnanswered = d("smppd_deliver_unanswered_at_close_total", "deliver_sm written to a session that closed before answering them: offered again, so the ESME may see each twice.")
	c.outboundBytes = d("smppd_outbound_bytes", "Bytes queued to SMPP peers now, all sessions together (capped by max_outbound_total).")
	c.bindsOverShare = d("smppd_binds_over_share_total", "Binds refused ESME_RBINDFAIL because their address (IPv6: its /64) already had [bind-limits] max_pending_per_address binds waiting for the auth workers.")
	c.authQueueFull = d("smppd_auth_queue_full_total", "Binds refused ESME_RBINDFAIL because the auth queue was full.")
	c.tlsHandshakeTimeouts = d("smppd_tls_handshake_timeouts_total", "TLS handshakes cut at [smpp-server.tls] handshake_timeout.")
	c.tlsWriteTimeouts = d("smppd_tls_write_timeouts_total", "TLS peers disconnected because they took none of our bytes within [smpp-server.tls] write_timeout.")
	c.proxyRefusals = d("smppd_proxy_header_refusals_total", "SMPP and SMPP-TLS connections from a [proxy-protocol] trusted proxy closed for a PROXY header missing, malformed, too long or not whole within header_timeout.")
	c.pdus = d("smppd_pdus_total", "SMPP PDUs by direction (in = from the peer), command and, for responses, command_status.",
		"direction", "command", "status")

	c.authCacheHits = d("smppd_bind_auth_cache_hits_total", "Binds whose password was checked against the verified-credential cache.")
	c.authCacheMisses = d("smppd_bind_auth_cache_misses_total", "Binds that ran the slow password hash.")
	c.bindsSlowed = d("smppd_binds_slowed_total", "Binds delayed by [bind-limits] slow_delay after repeated failures.")
	c.bindsBlocked = d("smppd_binds_blocked_total", "Binds refused without a password check by [bind-limits] block_after.")
	c.userBinds = d("smppd_user_binds", "Binds a user holds now, by bind type (types the user may not bind are left out).", "user", "type")
	c.userBalance = d("smppd_user_balance", "A user's remaining prepaid balance (users with a limited balance only).", "user")
	c.userQuotaLeft = d("smppd_user_quota_remaining", "Message parts a user may still send (users with a quota only).", "user")

	c.msgAccepted = d("smppd_messages_accepted_total", "MT messages queued to a connector (a submit_multi counts each destination).")
	c.msgRefused = d("smppd_messages_refused_total", "MT messages (or submit_multi destinations) refused, by reason (status answered): "+flow.RefusalReasons()+".", "reason")
	c.failovers = d("smppd_failovers_total", "MT messages queued on a failover connector because the first one's queue was full.")
	c.refunds = d("smppd_refunds_total", "Charges given back (upstream refusal, expiry, cancel, full queues).")
	c.rcptGenerated = d("smppd_receipts_generated_total", "Receipt deliver_sm built for ESMEs.")
	c.rcptDelivered = d("smppd_receipts_delivered_total", "Receipts acknowledged ESME_ROK by an ESME.")
	c.rcptUnknown = d("smppd_receipts_unknown_total", "Receipts from connectors for message ids no longer stored (dropped).")
	c.rcptHeld = d("smppd_receipts_held_total", "Receipts put on hold because their user had no receiver bound.")
	c.rcptExp = d("smppd_receipts_expired_total", "Receipts dropped after [delivery] hold_lifetime.")
	c.moDelivered = d("smppd_mo_delivered_total", "MO acknowledged ESME_ROK by an ESME.")
	c.moHeld = d("smppd_mo_held_total", "MO put on hold because their user had no receiver bound.")
	c.moExpired = d("smppd_mo_expired_total", "MO dropped after [delivery] hold_lifetime.")
	c.moUnroutable = d("smppd_mo_unroutable_total", "MO with no MO route or an unknown user (dropped).")
	c.moIncomplete = d("smppd_mo_incomplete_total", "Concatenated MO dropped incomplete after reassembly_timeout.")
	c.deliveriesRetried = d("smppd_deliveries_retried_total", "Receipt and MO deliver_sm scheduled again after an error status or a timeout.")
	c.deliveriesFailed = d("smppd_deliveries_failed_total", "Receipt and MO deliver_sm refused permanently (ESME_RX_P_APPN) or not encodable.")
	c.heldDropped = d("smppd_held_dropped_total", "Receipts and MO the hold store refused (max_held or the user's share reached, or a failing store: smppd_storage_errors_total) before they were acknowledged: refused to their source, which sends them again (an upstream answered ESME_RX_T_APPN; POST /v1/mo answered an error). An acknowledged one is never dropped for room: smppd_deliveries_waiting_over_total.")
	c.deliveriesWaited = d("smppd_deliveries_waited_total", "Times a receipt or MO waited because every receiver of its user had a full window and queue (back-pressure, not a failure).")
	c.deliveriesWaitFull = d("smppd_deliveries_waiting_overflow_total", "Receipts and MO put in the hold store because max_held items already waited for busy ESMEs (they come back when the ESME catches up; dropped only when the hold store is full too, see smppd_held_dropped_total).")
	c.deliveriesWaiting = d("smppd_deliveries_waiting", "Receipts and MO waiting now for room at a busy ESME.")
	c.deliveriesWaitOver = d("smppd_deliveries_waiting_over_total", "Receipts and MO, already acknowledged to their source, that the hold store refused past max_held waiting items: they waited in memory all the same (bounded by the receipt backlog's MT admission).")
	c.receiptBacklogUsers = d("smppd_receipt_backlog_users", "Users whose receipts and MO near what can be kept for them (waiting past half of max_held, held past 90% of max_held_per_user): their MT asking a receipt is refused ESME_RTHROTTLED (reason receipt_backlog).")
	c.receiptBacklogs = d("smppd_receipt_backlogs_total", "Times a user's receipts and MO neared what can be kept for it and its MT asking receipts was refused until half of that was delivered.")
	c.heldItems = d("smppd_held_items", "Receipts and MO held now, waiting for their user to bind a receiver or transceiver (or leased out to one and not yet answered).")

	c.userSubmits = d("smppd_user_submits_total", "MT messages queued for a user (a submit_multi counts each destination).", "user")
	c.userParts = d("smppd_user_parts_total", "Message parts of a user's queued MT messages (what throughput, balance and quota count).", "user")
	c.userRefused = d("smppd_user_refused_total", "A user's MT messages refused, by reason (as smppd_messages_refused_total; reason=\"throttled\" is the throughput limit).", "user", "reason")
	c.userReceipts = d("smppd_user_receipts_total", "Receipts a user acknowledged ESME_ROK.", "user")
	c.userMO = d("smppd_user_mo_total", "MO a user acknowledged ESME_ROK.", "user")

	c.connUp = d("smppd_connector_up", "1 when the connector can deliver now (an upstream bind is up, or the simulator runs).", "connector")
	c.connQueue = d("smppd_connector_queue_depth", "Messages in the connector's ring and waiting for a window slot or a retry.", "connector")
	c.connBinds = d("smppd_connector_binds", "Upstream binds up now.", "connector")
	c.connSubmitted = d("smppd_connector_submitted_total", "submit_sm sent upstream (retries included).", "connector")
	c.connAcceptedUp = d("smppd_connector_accepted_total", "Messages the upstream accepted.", "connector")
	c.connFailed = d("smppd_connector_failed_total", "Messages the connector gave up on: reason=\"refused\" (permanent upstream refusal) or \"expired\" (validity ran out first).", "connector", "reason")
	c.connRetried = d("smppd_connector_retried_total", "Temporary upstream refusals and timeouts retried.", "connector")
	c.connReceipts = d("smppd_connector_receipts_total", "Receipts received from the upstream.", "connector")
	c.connMO = d("smppd_connector_mo_total", "MO received from the upstream.", "connector")
	c.connReconnects = d("smppd_connector_reconnects_total", "Upstream reconnect attempts.", "connector")
	c.connIDsNotKept = d("smppd_connector_upstream_ids_not_kept_total", "Upstream message ids the store refused (device full or failing): kept in memory so their receipts still find our message, and stored once the store takes them.", "connector")
	c.connIDsPending = d("smppd_connector_upstream_ids_pending", "Upstream message ids waiting in memory to be stored now.", "connector")
	c.connIDsLost = d("smppd_connector_upstream_ids_lost_total", "Upstream message ids dropped unstored because too many waited (the connector's park size): a receipt naming one is kept as a dead letter.", "connector")

	c.records = d("smppd_storage_records", "Message records held (for query_sm, cancel_sm and receipts).")
	c.upstreamIDs = d("smppd_storage_upstream_ids", "Upstream message id mappings held.")
	c.heldUsers = d("smppd_held_users", "Users with receipts or MO held.")
	c.recordsEvicted = d("smppd_storage_records_evicted_total", "Records evicted before their TTL because [storage] max_records was reached.")
	c.recordsExpire = d("smppd_storage_records_expired_total", "Records reclaimed after [storage] message_ttl.")
	c.upstreamEvicted = d("smppd_storage_upstream_ids_evicted_total", "Upstream id mappings evicted before their TTL because max_upstream_ids was reached.")
	c.upstreamExpired = d("smppd_storage_upstream_ids_expired_total", "Upstream id mappings reclaimed after message_ttl.")
	c.upstreamRejected = d("smppd_storage_upstream_ids_rejected_total", "Upstream ids not stored because empty or too long.")
	c.storeErrs = d("smppd_storage_errors_total", "Store calls that failed (a submit refused ESME_RMSGQFUL, a state, upstream id or held item not written; the log names each).")
	c.store.init(d)
	c.admin.init(d)
	c.policy.init(d)
	return c
}

func (c *collector) desc(name, help string, labels ...string) *prometheus.Desc {
	d := prometheus.NewDesc(name, help, labels, nil)
	c.descs = append(c.descs, d)
	c.names = append(c.names, name)
	return d
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	if src.Engine != nil {
		c.collectEngine(ch, src.Engine)
	}
	if src.Accounts != nil {
		c.collectAccounts(ch, src.Accounts)
	}
	if src.Admin != nil {
		c.admin.collect(ch, src.Admin)
	}
	var storeErrs uint64 // the hub's and the delivery side's failed store calls
	if src.Hub != nil {
		storeErrs += c.collectHub(ch, src.Hub)
	}
	if src.Deliveries != nil {
		storeErrs += c.collectDeliveries(ch, src.Deliveries)
	}
	if src.Hub != nil || src.Deliveries != nil {
		counter(ch, c.storeErrs, storeErrs)
	}
	c.collectConnectors(ch, src)
	c.policy.collect(ch, src)
	if src.Storage != nil {
		st := src.Storage.Stats()
		gauge(ch, c.records, float64(st.Records))
		gauge(ch, c.upstreamIDs, float64(st.Upstream))
		gauge(ch, c.heldUsers, float64(st.HeldUsers))
		counter(ch, c.recordsEvicted, st.Evicted)
		counter(ch, c.recordsExpire, st.Expired)
		counter(ch, c.upstreamEvicted, st.UpstreamEvicted)
		counter(ch, c.upstreamExpired, st.UpstreamExpired)
		counter(ch, c.upstreamRejected, st.UpstreamRejected)
		c.store.collect(ch, &st)
	}
}

func (c *collector) collectEngine(ch chan<- prometheus.Metric, e Engine) {
	st := e.Stats()
	counter(ch, c.connAccepted, st.Accepted)
	counter(ch, c.connRefused, st.Refused)
	gauge(ch, c.sessionsOpen, float64(st.Sessions))
	gauge(ch, c.sessionsBound, float64(st.Bound))
	counter(ch, c.windowThrottled, st.Throttled)
	counter(ch, c.queueWaits, st.QueueWaits)
	counter(ch, c.respTimeouts, st.ResponseTimeouts)
	counter(ch, c.deliverRetries, st.DeliverRetries)
	counter(ch, c.nacks, st.GenericNacks)
	counter(ch, c.panics, st.Panics)
	counter(ch, c.slowConsumers, st.SlowConsumers)
	counter(ch, c.inputFloods, st.InputFloods)
	counter(ch, c.unexpectedResps, st.UnexpectedResponses)
	counter(ch, c.deliverUnanswered, st.DeliverUnanswered)
	gauge(ch, c.outboundBytes, float64(st.OutboundBytes))
	counter(ch, c.bindsOverShare, st.BindsOverShare)
	counter(ch, c.authQueueFull, st.AuthQueueFull)
	counter(ch, c.tlsHandshakeTimeouts, st.TLSHandshakeTimeouts)
	counter(ch, c.tlsWriteTimeouts, st.TLSWriteTimeouts)
	counter(ch, c.proxyRefusals, st.ProxyHeaderRefusals)
	e.PDUCounts(func(p engine.PDUCount) {
		dir := "out"
		if p.Received {
			dir = "in"
		}
		counter(ch, c.pdus, p.N, dir, p.Command, p.Status)
	})
}

var bindTypes = [...]accounts.BindType{accounts.BindTransmitter, accounts.BindReceiver, accounts.BindTransceiver}

func (c *collector) collectAccounts(ch chan<- prometheus.Metric, a Accounts) {
	st := a.Stats()
	counter(ch, c.authCacheHits, st.CacheHits)
	counter(ch, c.authCacheMisses, st.CacheMisses)
	counter(ch, c.bindsSlowed, st.Slowed)
	counter(ch, c.bindsBlocked, st.Throttled)
	for _, u := range a.Users() {
		for _, bt := range bindTypes {
			if u.BindTypes&bt != 0 {
				gauge(ch, c.userBinds, float64(a.BindsOfType(u.SystemID, bt)), u.SystemID, bt.String())
			}
		}
		if b := u.Limits.Balance; !b.IsUnlimited() {
			gauge(ch, c.userBalance, float64(b.Micros())/accounts.MicrosPerUnit, u.SystemID)
		}
		if q := u.Limits.Quota; q > 0 {
			gauge(ch, c.userQuotaLeft, float64(max(q-u.Limits.QuotaUsed, 0)), u.SystemID)
		}
	}
}

// collectHub emits the MT counters and returns the hub's store errors.
func (c *collector) collectHub(ch chan<- prometheus.Metric, h Hub) uint64 {
	st := h.Stats()
	counter(ch, c.msgAccepted, st.SubmitsAccepted)
	for r := range st.Refused {
		counter(ch, c.msgRefused, st.Refused[r], flow.Refusal(r).String())
	}
	counter(ch, c.failovers, st.Failovers)
	counter(ch, c.refunds, st.Refunds)
	c.store.hub(ch, &st)
	for _, u := range h.UserStats() {
		counter(ch, c.userSubmits, u.Submits, u.SystemID)
		counter(ch, c.userParts, u.Parts, u.SystemID)
		counter(ch, c.userReceipts, u.Receipts, u.SystemID)
		counter(ch, c.userMO, u.MO, u.SystemID)
		for r, n := range u.Refused {
			if n > 0 { // reasons × users would be mostly zeros
				counter(ch, c.userRefused, n, u.SystemID, flow.Refusal(r).String())
			}
		}
	}
	return st.StoreErrors
}

// collectDeliveries emits the receipt and MO counters and returns the
// delivery side's store errors.
func (c *collector) collectDeliveries(ch chan<- prometheus.Metric, d Deliveries) uint64 {
	st := d.Stats()
	c.store.deliveries(ch, &st)
	counter(ch, c.rcptGenerated, st.ReceiptsGenerated)
	counter(ch, c.rcptDelivered, st.ReceiptsDelivered)
	counter(ch, c.rcptUnknown, st.ReceiptsUnknown)
	counter(ch, c.rcptHeld, st.ReceiptsHeld)
	counter(ch, c.rcptExp, st.ReceiptsExpired)
	counter(ch, c.moDelivered, st.MODelivered)
	counter(ch, c.moHeld, st.MOHeld)
	counter(ch, c.moExpired, st.MOExpired)
	counter(ch, c.moUnroutable, st.MOUnroutable)
	counter(ch, c.moIncomplete, st.MOIncomplete)
	counter(ch, c.deliveriesRetried, st.DeliveriesRetried)
	counter(ch, c.deliveriesFailed, st.DeliveriesFailed)
	counter(ch, c.heldDropped, st.HeldFull)
	gauge(ch, c.heldItems, float64(st.HeldNow))
	counter(ch, c.deliveriesWaited, st.DeliveriesWaited)
	gauge(ch, c.deliveriesWaiting, float64(st.WaitingNow))
	counter(ch, c.deliveriesWaitFull, st.WaitingFull)
	counter(ch, c.deliveriesWaitOver, st.WaitingOver)
	gauge(ch, c.receiptBacklogUsers, float64(st.BackloggedNow))
	counter(ch, c.receiptBacklogs, st.BacklogOn)
	return st.StoreErrors
}

func (c *collector) collectConnectors(ch chan<- prometheus.Metric, src *Sources) {
	for _, cn := range src.Connectors {
		name := cn.Name()
		st := cn.Stats()
		up := 0.0
		if cn.Up() {
			up = 1
		}
		gauge(ch, c.connUp, up, name)
		gauge(ch, c.connQueue, float64(st.Queued), name)
		gauge(ch, c.connBinds, float64(st.Binds), name)
		counter(ch, c.connSubmitted, st.Submitted, name)
		counter(ch, c.connAcceptedUp, st.Accepted, name)
		counter(ch, c.connFailed, st.Refused, name, "refused")
		counter(ch, c.connFailed, st.Expired, name, "expired")
		counter(ch, c.connRetried, st.Retried, name)
		counter(ch, c.connReceipts, st.Receipts, name)
		counter(ch, c.connMO, st.MO, name)
		counter(ch, c.connReconnects, st.Reconnect, name)
		counter(ch, c.connIDsNotKept, st.IDsNotKept, name)
		gauge(ch, c.connIDsPending, float64(st.IDsPending), name)
		counter(ch, c.connIDsLost, st.IDsLost, name)
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	emit(ch, d, prometheus.CounterValue, float64(v), labels)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	emit(ch, d, prometheus.GaugeValue, v, labels)
}

// emit sends one const metric; a label mismatch (a bug) becomes an invalid
// metric the scrape reports, never a panic on the scrape goroutine.
func emit(ch chan<- prometheus.Metric, d *prometheus.Desc, t prometheus.ValueType, v float64, labels []string) {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		m = prometheus.NewInvalidMetric(d, err)
	}
	ch <- m
}
