//go:build !race

package percpu

// raceEnabled is false: Pairs counts with plain writes while pinned.
const raceEnabled = false
