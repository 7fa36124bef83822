//go:build race

package engine

// raceEnabled: under the race detector the loop's PDU counters add
// atomically (plainCounts).
const raceEnabled = true
