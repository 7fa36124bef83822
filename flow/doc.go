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
// the Record's state and refunds refusals (Accepted, Failed); receipts and
// MO are handed on to the delivery side (Options.Deliveries: package
// delivery, which flow does not import; cmd/smppd wires the two), which
// also sends the receipt of a message failed here when registered_delivery
// asks.
//
// Who calls what: HandleSubmit and HandleQuery/Cancel/Replace run on event
// loops and never block; the Sink methods run on connector goroutines. All
// are safe concurrently.
//
// # Statuses
//
// Every MT refusal is a Refusal: refusalTable (refusals.go) gives its
// metric label, the statuses it answers (native and with
// accounts.Admission.JasminCompat) and its cause. docs/OPERATIONS.md and
// docs/CONFIG.md show that table; refusals_doc_test.go keeps them equal.
//
// # Billing
//
// A message is charged per part at its route's rate when it is accepted:
// one part for a UDH or SAR part (so a long message sent part by part pays
// every part), as many as codec.ReadParts counts for a message_payload, one
// otherwise. The charge is refunded when the rings are full, when the
// upstream refuses the message, when it expires or is cancelled before it
// went upstream, and when a connector stops with it still queued; it is
// kept once the upstream accepted the message, whatever the receipt says
// later.
//
// A replace_sm is counted, routed and admitted as a submit of its text:
// parts beyond those the message is billed for are charged at the rate of
// the route the replacement matches (refunded with the rest, or at once
// when the upstream refuses a forwarded replace); fewer parts give nothing
// back. A forwarded cancel_sm or replace_sm is answered with the upstream's
// status once it comes (engine.ManageRequest.Defer).
package flow
