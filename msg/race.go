//go:build race

package msg

// raceEnabled: released messages go to messagePool only (pool.go).
const raceEnabled = true
