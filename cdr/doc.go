// Package cdr writes the CDR stream: one JSON line per accepted MT
// message when it reaches its final state (docs/CDR.md is the format's
// contract), and answers message lookups in the same shape.
//
// # Off the message path
//
// The hub reports each final state once, through flow.Finals and
// delivery.Finals, as Stream.Final: a copy into a bounded MPSC ring, no
// lock, no allocation, never a wait. One writer goroutine reads each
// message's record from the store, encodes the line and appends it to the
// file being written, one write(2) per batch. Past its high-water mark
// the stream raises Backlog and the hub refuses new MT (ESME_RTHROTTLED)
// until the writer catches up, so the rest of the ring holds the final
// states of what was accepted (backlog.go). Only a writer stalled longer
// than that headroom lasts fills the ring; a full ring drops the line,
// counted (Stats.Dropped) and logged, so a stalled disk never reaches an
// event loop.
//
// # Files
//
// Lines go to cdr-<seq>_<start>.jsonl.part, closed by size, by age and at
// stop into cdr-<seq>_<start>_<end>.jsonl; closed files are removed after
// their retention. A part a crash left is closed at the next Open (a torn
// last line cut).
//
// # After a crash: at most once
//
// A line is written once, or not at all: the final states still in the
// ring when the process dies (normally the last few milliseconds; up to
// the ring's size while the disk is stalled) have no line, and nothing
// writes them later. The store keeps each message's final state but not
// when it was recorded, so a restart cannot tell which records' lines are
// missing without rereading every file; re-emitting "the recent ones"
// would duplicate. docs/CDR.md says how to reconcile with the store.
// A host crash may also lose what the OS had not written back: the file
// being written is fsynced every second and at each close.
package cdr
