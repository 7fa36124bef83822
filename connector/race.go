//go:build race

package connector

// raceEnabled: under the race detector a step counts atomically
// (plainCounts).
const raceEnabled = true
