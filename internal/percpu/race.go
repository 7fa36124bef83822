//go:build race

package percpu

// raceEnabled: the race detector cannot see Pairs' pinning, so every
// count takes the atomic path.
const raceEnabled = true
