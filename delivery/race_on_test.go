//go:build race

package delivery

// raceOn is true under -race, which drops sync.Pool items at random
// (allocations then count the pool's misses).
const raceOn = true
