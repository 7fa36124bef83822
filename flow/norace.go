//go:build !race

package flow

// raceEnabled is false: pCells counts with plain writes while pinned.
const raceEnabled = false
