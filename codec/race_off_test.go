//go:build !race

package codec

// codecRace is false in normal builds: allocation checks run.
const codecRace = false
