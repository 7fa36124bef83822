// Package msg holds what crosses between the engine and the rest of smppd:
// message ids (ID, IDGen) now, and the message envelopes of the
// message-flow work later. It imports nothing of ours.
package msg
