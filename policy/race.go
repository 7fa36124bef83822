//go:build race

package policy

// raceEnabled: the race detector cannot see pCount's pinning, so every
// count takes the atomic path.
const raceEnabled = true
