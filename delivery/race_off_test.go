//go:build !race

package delivery

// raceOn is false in normal builds: allocation checks run.
const raceOn = false
