// Package ring holds the bounded, allocation-free MPSC queue that carries work
// between gnet event loops and connector workers, and the coalescing doorbell
// that wakes a queue's consumer.
//
// # Who may call what
//
//   - MPSC: any number of goroutines call TryPush and TryPushBatch; one
//     consumer goroutine calls TryPop and PopBatch. The consumer role may move
//     to another goroutine only through a happens-before edge (a channel
//     send, a mutex, gnet's Execute). Len and Cap from anywhere.
//   - Doorbell and Notify: Ring from any producer, after its push succeeded;
//     Clear and Wait from the consumer only.
//
// Rings are built by NewMPSC; the zero value is not usable. Rings,
// doorbells and notifiers must not be copied (go vet's copylocks check flags
// copies).
//
// # Full means full
//
// A push onto a full ring returns false (or a short count) at once: it never
// blocks, never overwrites and never drops. The caller owns the refusal:
// answer the ESME with ESME_RMSGQFUL or try the route's failover, count it
// and log it.
//
// # Ordering and memory
//
// Every value is popped exactly once, in push order per producer. Everything
// a producer wrote before a successful push happens before the consumer's
// pop of that value returns (sync/atomic operations are sequentially
// consistent in Go). A popped slot is zeroed before it is handed back to the
// producers, so a ring of pointers does not keep garbage alive. Push, pop,
// their batch forms, Ring, Clear and Wait allocate nothing.
//
// # Waking the consumer
//
// A ring does not wake anyone; pair it with a Doorbell (the engine's event
// loops: Conn.Wake or EventLoop.Execute) or a Notify (goroutine consumers such
// as connector workers). The protocol, with its proof, is on Doorbell.
package ring
