// Package flow is smppd's message hub: it sits between the engine (ESME
// sessions) and the connectors (upstreams) and decides what happens to
// every message.
//
// MT (submit_sm, data_sm, submit_multi) is decided synchronously on the
// event loop that received it: the user's receipt right and source
// address, the SMPP times, the billable parts, the route
// (routing.Table.RouteMT), the user's limits (accounts.Admission), a copy
// into a pooled msg.Message, a storage Record, and the connector's ring
// (or the route's failover). The answer carries our 16-hex-digit id; it is
// never deferred.
//
// Connectors report back through the connector.Sink methods: the hub keeps
// the Record's state, refunds refusals, and turns receipts (and permanent
// refusals) into deliver_sm receipts when registered_delivery asks. MO goes
// through the MO routes (or straight to an operator's chosen user), is
// reassembled when configured, and is delivered.
//
// Deliveries (receipts and MO) go to the engine through a Deliverer; a user
// with no receiver bound gets them held in storage.Holds until a receiver
// binds (BindObserver) or HoldLifetime passes. ESME errors and timeouts
// are retried with a doubling backoff within the same lifetime;
// ESME_RX_P_APPN is permanent. One background goroutine releases held items
// on binds, runs retries and sweeps expiries.
//
// Who calls what: HandleSubmit, HandleQuery/Cancel/Replace, Bound/Unbound
// and DeliveryDone run on event loops and never block; the Sink methods
// run on connector goroutines; InjectMO on the admin API's goroutines. All
// are safe concurrently.
//
// # Statuses
//
// Every MT refusal has one status (Refusal names the reason in Stats):
//
//	user (or its group) disabled after it bound        ESME_RSUBMITFAIL
//	registered_delivery != 0, user without receipts   ESME_RINVREGDLVFLG
//	source_addr refused by the user's patterns         ESME_RINVSRCADR (an empty one takes the user's default source)
//	destination_addr empty, or no MT route             ESME_RINVDSTADR
//	validity_period malformed or in the past           ESME_RINVEXPIRY
//	schedule_delivery_time malformed, or after an
//	  explicit validity_period                         ESME_RINVSCHED
//	UDHI set without a well-formed UDH                 ESME_RINVESMCLASS
//	sar_* TLVs incomplete or out of range              ESME_RINVOPTPARAMVAL
//	message_payload of more than 255 parts             ESME_RINVMSGLEN
//	submit_multi distribution list (none exist)        ESME_RINVDLNAME (in unsuccess_sme)
//	throughput, balance, quota, priority, validity     accounts.Admission.Status (ESME_RTHROTTLED,
//	  limits                                           ESME_RSUBMITFAIL, ESME_RINVPRTFLG, ESME_RINVEXPIRY;
//	                                                   Jasmin's choices with Admission.JasminCompat)
//	every ring full (the chosen connector's and the
//	  failovers that are up)                           ESME_RMSGQFUL
//	no accounts user behind the session, bad routing
//	  table connector id                               ESME_RSYSERR
//
// # Billing
//
// A message is charged per part at its route's rate when it is accepted:
// one part for a UDH or SAR part (so a long message sent part by part pays
// every part), concat.Count parts for a message_payload, one otherwise. The
// charge is refunded when the rings are full, when the upstream refuses the
// message, when it expires or is cancelled before it went upstream, and when
// a connector stops with it still queued; it is kept once the upstream
// accepted the message, whatever the receipt says later.
//
// A replace_sm is counted, routed and admitted as a submit of its text:
// parts beyond those the message is billed for are charged at the rate of
// the route the replacement matches (refunded with the rest, or at once
// when the upstream refuses a forwarded replace); fewer parts give nothing
// back. A forwarded cancel_sm or replace_sm is answered with the upstream's
// status once it comes (engine.ManageRequest.Defer).
package flow
