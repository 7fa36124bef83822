//go:build !race

package sim

// raceEnabled is false: the driver counts outcomes with plain writes
// (plainCounts).
const raceEnabled = false
