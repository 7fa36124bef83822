//go:build !nodeliverymarker

package jetstream

// markDelivery: a node journals the delivery marker (kTried) of each held
// item it won the claim of before delivering it (holds.mark). Always on;
// the nodeliverymarker build tag turns it off only to measure its cost.
const markDelivery = true
