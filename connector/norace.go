//go:build !race

package connector

// raceEnabled is false: a step counts with plain writes (plainCounts).
const raceEnabled = false
