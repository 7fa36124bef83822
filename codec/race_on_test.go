//go:build race

package codec

// codecRace is true under -race, which changes allocation counts.
const codecRace = true
