package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
)

// Segment header, 32 bytes. Version 2 (written by this release):
//
//	0  magic "SMPPDLOG"
//	8  format version, uint32 LE
//	12 flags, uint32 LE (flagRecycled)
//	16 segment number, uint64 LE
//	24 the seed of the stale frames a recycled segment holds after its
//	   own, uint32 LE (0 when not recycled)
//	28 CRC32C of bytes 0..28, uint32 LE
//
// Version 1 (still read, and appended to when it is the last segment)
// has the CRC32C of bytes 0..24 at 24 and zeros at 28.
const (
	headerSize    = 32
	magic         = "SMPPDLOG"
	formatVersion = 2
)

// flagRecycled: the file was a removed segment; past its own entries it
// holds the old ones, whose frames verify only under the stale seed.
const flagRecycled = 1

// Entry frame: length of the payload (uint32 LE), CRC32C over kind and
// payload XOR the segment's seed (uint32 LE), kind, payload. The seed
// (frameSeed) differs per segment, so a frame left from a recycled file's
// previous life never verifies as one of the new life's.
const frameHeader = 9

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segExt is the segment file suffix; the name is the number in 10 digits
// so that names sort as numbers do.
const segExt = ".wal"

func segName(dir string, seq uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%010d%s", seq, segExt))
}

// parseSegName returns the segment number of a segment file name, or false
// for any other file.
func parseSegName(name string) (uint64, bool) {
	if len(name) != 10+len(segExt) || name[10:] != segExt {
		return 0, false
	}
	seq, err := strconv.ParseUint(name[:10], 10, 32)
	if err != nil || seq == 0 {
		return 0, false
	}
	return seq, true
}

// frameSeed is segment seq's frame seed in version 2: distinct per
// segment (seq < 2^32), never the CRC of an all-zero frame (seq 0 does
// not exist), so a zero tail never verifies either.
func frameSeed(seq uint64) uint32 { return uint32(seq) ^ zeroFrameCRC }

// zeroFrameCRC is frameCRC of an empty entry of kind 0: the checksum a
// run of zeros would need to pass for a frame.
var zeroFrameCRC = frameCRC(0, nil)

// segHeader is what a valid header says.
type segHeader struct {
	seed     uint32 // the frames' seed (0 in version 1)
	recycled bool
	stale    uint32 // the seed of the frames after the entries, when recycled
}

// appendHeader appends a version 2 header of segment seq; stale is the
// seed of the old frames a recycled file keeps (recycled only).
func appendHeader(b []byte, seq uint64, recycled bool, stale uint32) []byte {
	var h [headerSize]byte
	copy(h[:8], magic)
	binary.LittleEndian.PutUint32(h[8:], formatVersion)
	if recycled {
		binary.LittleEndian.PutUint32(h[12:], flagRecycled)
		binary.LittleEndian.PutUint32(h[24:], stale)
	}
	binary.LittleEndian.PutUint64(h[16:], seq)
	binary.LittleEndian.PutUint32(h[28:], crc32.Checksum(h[:28], castagnoli))
	return append(b, h[:]...)
}

// headerError says why a segment header is unusable; version is set when
// the cause is a newer format.
type headerError struct {
	reason  string
	version uint32
}

func (e *headerError) Error() string { return e.reason }

// checkHeader validates h (headerSize bytes) as the header of segment seq.
// The version is checked before the checksum: a newer format may lay out
// the rest of its header differently.
func checkHeader(h []byte, seq uint64) (segHeader, *headerError) {
	sh, got, he := parseHeader(h)
	if he != nil {
		return sh, he
	}
	if got != seq {
		return sh, &headerError{reason: fmt.Sprintf("header names segment %d", got)}
	}
	return sh, nil
}

// parseHeader validates h as a segment header and returns what it says
// and the segment number it names.
func parseHeader(h []byte) (segHeader, uint64, *headerError) {
	var sh segHeader
	if string(h[:8]) != magic {
		return sh, 0, &headerError{reason: "no segment magic"}
	}
	v := binary.LittleEndian.Uint32(h[8:])
	if v > formatVersion {
		return sh, 0, &headerError{reason: "newer format", version: v}
	}
	if v == 0 {
		return sh, 0, &headerError{reason: "format version 0"}
	}
	sumEnd := 24
	if v >= 2 {
		sumEnd = 28
	}
	if crc32.Checksum(h[:sumEnd], castagnoli) != binary.LittleEndian.Uint32(h[sumEnd:]) {
		return sh, 0, &headerError{reason: "header checksum mismatch"}
	}
	seq := binary.LittleEndian.Uint64(h[16:])
	if v >= 2 {
		sh.seed = frameSeed(seq)
		if binary.LittleEndian.Uint32(h[12:])&flagRecycled != 0 {
			sh.recycled, sh.stale = true, binary.LittleEndian.Uint32(h[24:])
		}
	}
	return sh, seq, nil
}

// frameCRC is the checksum of an entry: CRC32C over kind, then payload.
// The kind byte is folded in by hand (one table step, as crc32.Update does
// per byte): a one-byte slice of it would escape to the heap.
func frameCRC(kind byte, payload []byte) uint32 {
	c := ^uint32(0)
	c = castagnoli[byte(c)^kind] ^ c>>8
	return crc32.Update(^c, castagnoli, payload)
}

func putFrameHeader(b []byte, kind byte, n int, crc uint32) {
	binary.LittleEndian.PutUint32(b, uint32(n))
	binary.LittleEndian.PutUint32(b[4:], crc)
	b[8] = kind
}

func mkpos(seq uint64, off int64) Pos { return Pos(seq<<32 | uint64(off)) }
