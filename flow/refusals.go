package flow

import (
	"strconv"
	"strings"

	"github.com/smppd/smppd/codec"
)

// Refusal is why the hub refused an MT request (or one destination of a
// submit_multi). refusalTable gives each its metric label, the statuses it
// answers and its description; docs/OPERATIONS.md and docs/CONFIG.md carry
// the same table (refusals_doc_test.go holds them to it).
type Refusal uint8

// Refusal reasons.
const (
	RefuseReceipts       Refusal = iota // registered_delivery from a user without receipts
	RefuseSource                        // source_addr not allowed
	RefuseDest                          // destination empty
	RefuseNoRoute                       // no MT route matched
	RefuseValidity                      // bad or past validity_period
	RefuseSchedule                      // bad schedule_delivery_time
	RefuseMessage                       // malformed UDH/SAR or too many parts
	RefuseDistList                      // submit_multi distribution list (none are configured)
	RefuseThrottled                     // throughput bucket empty
	RefuseBalance                       // balance or quota exhausted
	RefusePriority                      // priority_flag refused
	RefuseLimits                        // validity above the user's max_validity
	RefuseQueueFull                     // the connector's ring and every failover's full
	RefuseDisabled                      // the user or its group was disabled (or the user removed) after it bound
	RefuseInternal                      // a route to a connector id the hub does not have
	RefuseStorage                       // the store could not write the message's record
	RefuseSenderTPS                     // the sender's [[limit]] bucket was empty
	RefuseRouteTPS                      // the route's [[limit]] bucket was empty
	RefusePolicy                        // the traffic policy refused it (its status is configurable)
	RefuseBacklog                       // the CDR writer is behind (Options.Backlog)
	RefuseReceiptBacklog                // the user's receivers are behind on its receipts (SetReceiptBacklog)
	numRefusals

	// refuseWait is place's answer when the session may wait for room
	// (SubmitResult.Wait): not a refusal, never counted.
	refuseWait = numRefusals + 1
)

// refusalRow is one Refusal's entry in the table.
type refusalRow struct {
	label string // smppd_messages_refused_total{reason}, smppd_user_refused_total{reason}
	// status lists what the refusal may answer; a refusal with one status
	// answers it from here (fixed). Several: the cause picks (bad_message),
	// or accounts.Admission.Status does (its native choices).
	status []codec.Status
	// jasmin is what it may answer with jasmin_compat_status = true, when
	// that differs from status (nil: the same).
	jasmin []codec.Status
	desc   string // the docs' cause column, without its backquotes
}

func statuses(s ...codec.Status) []codec.Status { return s }

// refusalTable is the one place a refusal's label, statuses and meaning are
// written. The admission rows (throttled, balance, priority, max_validity)
// list what accounts.Admission.Status answers; a test holds them together.
var refusalTable = [numRefusals]refusalRow{
	RefuseReceipts: {label: "receipts_not_allowed", status: statuses(codec.StatusInvRegDlvFlg),
		desc: "registered_delivery from a user with receipts = false"},
	RefuseSource: {label: "source_refused", status: statuses(codec.StatusInvSrcAdr),
		desc: "source_addr not in the user's source_addrs"},
	RefuseDest: {label: "dest_empty", status: statuses(codec.StatusInvDstAdr),
		desc: "no destination"},
	RefuseNoRoute: {label: "no_route", status: statuses(codec.StatusInvDstAdr),
		desc: "no MT route matched"},
	RefuseValidity: {label: "bad_validity", status: statuses(codec.StatusInvExpiry),
		desc: "validity_period unparseable or in the past"},
	RefuseSchedule: {label: "bad_schedule", status: statuses(codec.StatusInvSched),
		desc: "schedule_delivery_time unparseable or after the validity"},
	RefuseMessage: {label: "bad_message", status: statuses(codec.StatusInvEsmClass, codec.StatusInvOptParamVal, codec.StatusInvMsgLen),
		desc: "malformed UDH (ESME_RINVESMCLASS), inconsistent sar_* TLVs (ESME_RINVOPTPARAMVAL), more than 255 parts (ESME_RINVMSGLEN)"},
	RefuseDistList: {label: "distribution_list", status: statuses(codec.StatusInvDLName),
		desc: "submit_multi to a distribution list (none exist)"},
	RefuseThrottled: {label: "throttled", status: statuses(codec.StatusThrottled),
		desc: "the user's throughput"},
	RefuseBalance: {label: "balance", status: statuses(codec.StatusSubmitFail), jasmin: statuses(codec.StatusSysErr),
		desc: "balance or quota exhausted"},
	RefusePriority: {label: "priority", status: statuses(codec.StatusInvPrtFlg), jasmin: statuses(codec.StatusInvPrtFlg, codec.StatusInvSysID),
		desc: "priority_flag above max_priority (Jasmin mode: ESME_RINVSYSID when max_priority = 0)"},
	RefuseLimits: {label: "max_validity", status: statuses(codec.StatusInvExpiry),
		desc: "validity above the user's max_validity"},
	RefuseQueueFull: {label: "queue_full", status: statuses(codec.StatusMsgQFul),
		desc: "the connector's ring (and every failover's) stayed full for queue_full_wait"},
	RefuseDisabled: {label: "user_disabled", status: statuses(codec.StatusSubmitFail),
		desc: "the user or its group was disabled (or the user removed) after it bound"},
	RefuseInternal: {label: "internal", status: statuses(codec.StatusSysErr),
		desc: "a wiring bug (a route to a connector the hub does not have); should stay 0"},
	RefuseStorage: {label: "storage_error", status: statuses(codec.StatusMsgQFul),
		desc: "the store could not write the message's record (a durable store's full or failing disk); nothing was queued or charged"},
	RefuseSenderTPS: {label: "sender_throttled", status: statuses(codec.StatusThrottled),
		desc: "the sender's [[limit]] in the policy file (its rate over all users)"},
	RefuseRouteTPS: {label: "route_throttled", status: statuses(codec.StatusThrottled),
		desc: "the MT route's [[limit]] in the policy file"},
	RefusePolicy: {label: "policy", status: statuses(codec.StatusInvDstAdr, codec.StatusInvSrcAdr, codec.StatusMsgQFul),
		desc: "the traffic policy refused it (POLICY.md: normalisation, sender, a block or allow list, a reject rule, a full lookup); the statuses are the defaults, each is configurable"},
	RefuseBacklog: {label: "cdr_backlog", status: statuses(codec.StatusThrottled),
		desc: "the CDR writer is behind: its queue is past [cdr] queue_high_water; nothing was accepted, so no billing line can be lost"},
	RefuseReceiptBacklog: {label: "receipt_backlog", status: statuses(codec.StatusThrottled),
		desc: "registered_delivery asked while the user's receipts and MO near what can be kept for it (waiting for its busy receivers: half of [delivery] max_held, at least max_held_per_user; held: 90% of max_held_per_user), until half of that is delivered; nothing was accepted, so no receipt can be lost"},
}

// String returns the metric-label spelling.
func (r Refusal) String() string {
	if r < numRefusals {
		return refusalTable[r].label
	}
	return "refusal(" + strconv.Itoa(int(r)) + ")"
}

// Description says what causes r.
func (r Refusal) Description() string {
	if r < numRefusals {
		return refusalTable[r].desc
	}
	return ""
}

// status is r's fixed status, for the call sites where the refusal alone
// decides it (the table's first).
func (r Refusal) status() codec.Status {
	if r < numRefusals {
		return refusalTable[r].status[0]
	}
	return codec.StatusSysErr
}

// refused returns r with its fixed status, for checks that answer both.
func refused(r Refusal) (codec.Status, Refusal) { return r.status(), r }

// answers lists the statuses r may answer in the given mode.
func (r Refusal) answers(jasmin bool) []codec.Status {
	if r >= numRefusals {
		return nil
	}
	if row := &refusalTable[r]; jasmin && row.jasmin != nil {
		return row.jasmin
	}
	return refusalTable[r].status
}

// RefusalReasons lists every reason with its statuses, for the refusal
// metrics' help text.
func RefusalReasons() string {
	var b strings.Builder
	for r := range numRefusals {
		if r > 0 {
			b.WriteString(", ")
		}
		row := &refusalTable[r]
		b.WriteString(row.label)
		b.WriteString(" (")
		writeStatuses(&b, row.status)
		if row.jasmin != nil {
			b.WriteString("; jasmin_compat_status: ")
			writeStatuses(&b, row.jasmin)
		}
		b.WriteString(")")
	}
	return b.String()
}

func writeStatuses(b *strings.Builder, sts []codec.Status) {
	for i, st := range sts {
		if i > 0 {
			b.WriteString(" or ")
		}
		b.WriteString(st.String())
	}
}
