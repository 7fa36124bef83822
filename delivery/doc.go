// Package delivery takes receipts and MO to the ESMEs: the half of the
// message hub that runs from the connectors to the engine.
//
// Receipts (Receipt, and FailedReceipt for an MT that ended before it went
// upstream) are encoded from the message's storage.Record when its
// registered_delivery asks (package dlr says what a receipt contains). MO
// go through the MO routes (MORouter) or straight to an operator's chosen
// user (InjectMO), and are reassembled when configured. Each deliver_sm is
// an item of the service's slab, handed to the engine through a Deliverer;
// a user with no receiver bound gets it held in storage.Holds until a
// receiver binds (BindObserver) or HoldLifetime passes. A busy ESME makes
// it wait for room (room.go), within MaxWaiting; ESME errors and timeouts
// are retried with a doubling backoff within the same lifetime;
// ESME_RX_P_APPN is permanent. One background goroutine releases held items
// on binds, runs retries and waiting items, and sweeps expiries.
//
// Who calls what: Bound/Unbound and DeliveryDone run on event loops and
// never block; Receipt, FailedReceipt and MO on connector goroutines;
// InjectMO on the admin API's goroutines. All are safe concurrently.
package delivery
