//go:build nodeliverymarker

package jetstream

// markDelivery off: a build for measuring the delivery marker's cost
// (internal/clustertest BenchmarkCrossNodeReceipts), never for use: a
// node's delivery of an item whose claim expired on a killed node goes
// uncounted.
const markDelivery = false
