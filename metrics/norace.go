//go:build !race

package metrics

// raceEnabled is false: Histogram observes with plain writes while pinned.
const raceEnabled = false
