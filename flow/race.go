//go:build race

package flow

// raceEnabled: the race detector cannot see pCells' pinning, so every
// count takes the atomic path.
const raceEnabled = true
