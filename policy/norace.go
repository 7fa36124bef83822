//go:build !race

package policy

// raceEnabled is false: pCount counts with plain writes while pinned.
const raceEnabled = false
