//go:build race

package sim

// raceEnabled: under the race detector the driver counts outcomes
// atomically (plainCounts).
const raceEnabled = true
