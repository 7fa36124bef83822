//go:build race

package metrics

// raceEnabled: the race detector cannot see Histogram's pinning, so every
// observation takes the atomic path.
const raceEnabled = true
