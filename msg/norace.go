//go:build !race

package msg

// raceEnabled is false: released messages go to a per-P stack first (pool.go).
const raceEnabled = false
