package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strconv"
)

// Segment header, 32 bytes:
//
//	0  magic "SMPPDLOG"
//	8  format version, uint32 LE
//	12 flags, uint32 LE (0; a reader of version 1 refuses none)
//	16 segment number, uint64 LE
//	24 CRC32C of bytes 0..24, uint32 LE
//	28 zero
const (
	headerSize    = 32
	magic         = "SMPPDLOG"
	formatVersion = 1
)

// Entry frame: length of the payload (uint32 LE), CRC32C over kind and
// payload (uint32 LE), kind, payload.
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

func appendHeader(b []byte, seq uint64) []byte {
	var h [headerSize]byte
	copy(h[:8], magic)
	binary.LittleEndian.PutUint32(h[8:], formatVersion)
	binary.LittleEndian.PutUint64(h[16:], seq)
	binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(h[:24], castagnoli))
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
func checkHeader(h []byte, seq uint64) *headerError {
	if string(h[:8]) != magic {
		return &headerError{reason: "no segment magic"}
	}
	v := binary.LittleEndian.Uint32(h[8:])
	if v > formatVersion {
		return &headerError{reason: "newer format", version: v}
	}
	if v == 0 {
		return &headerError{reason: "format version 0"}
	}
	if crc32.Checksum(h[:24], castagnoli) != binary.LittleEndian.Uint32(h[24:]) {
		return &headerError{reason: "header checksum mismatch"}
	}
	if got := binary.LittleEndian.Uint64(h[16:]); got != seq {
		return &headerError{reason: fmt.Sprintf("header names segment %d", got)}
	}
	return nil
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
