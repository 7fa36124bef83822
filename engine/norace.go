//go:build !race

package engine

// raceEnabled is false: the loop's PDU counters add with plain writes
// (plainCounts).
const raceEnabled = false
