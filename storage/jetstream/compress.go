package jetstream

import (
	"encoding/binary"
	"errors"

	"github.com/klauspost/compress/s2"
)

// kS2 is an entry holding a whole batch compressed with S2's block format
// (github.com/klauspost/compress/s2): every replica writes each batch to
// its RAFT log and its message block and the routes carry it twice, so
// fewer bytes are cheaper everywhere past the publisher. Outside the
// iota kinds: a node of a version that lacks it reports the batch as an
// unknown entry kind (event=journal_apply_failed) instead of misreading
// it.
const kS2 byte = 0xc2

// minCompress: smaller batches go out as they are (S2's framing and the
// entry header would eat the gain).
const minCompress = 512

// maxExpanded bounds a kS2 entry's decoded size: a batch is at most
// maxBatch plus one oversized entry, under NATS's 4 MiB payload.
const maxExpanded = 8 << 20

var errExpand = errors.New("jetstream: compressed journal batch does not decode")

// compressBatch returns what to publish for the batch raw: one kS2 entry
// built in dst (grown as needed) when that is at least an eighth smaller,
// else raw itself.
func compressBatch(dst, raw []byte) []byte {
	if len(raw) < minCompress {
		return raw
	}
	need := 5 + s2.MaxEncodedLen(len(raw))
	if cap(dst) < need {
		dst = make([]byte, need)
	}
	dst = dst[:need]
	enc := s2.Encode(dst[5:], raw)
	if 5+len(enc) > len(raw)-len(raw)/8 {
		return raw
	}
	binary.LittleEndian.PutUint32(dst, uint32(1+len(enc)))
	dst[4] = kS2
	return dst[:5+len(enc)]
}

// expand decodes a kS2 entry's payload into dst (grown as needed) and
// returns the batch.
func expand(dst, p []byte) ([]byte, error) {
	n, err := s2.DecodedLen(p)
	if err != nil || n > maxExpanded {
		return dst, errExpand
	}
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	out, err := s2.Decode(dst[:n], p)
	if err != nil {
		return dst, errExpand
	}
	return out, nil
}

// unwrap returns the entries of the batch p: p itself, or the batch a
// kS2 entry holds, decoded into *buf (kept for the next call).
func unwrap(buf *[]byte, p []byte) ([]byte, error) {
	if len(p) < 5 || p[4] != kS2 {
		return p, nil
	}
	if int(binary.LittleEndian.Uint32(p)) != len(p)-4 {
		return nil, errExpand
	}
	out, err := expand(*buf, p[5:])
	if cap(out) > cap(*buf) {
		*buf = out[:0]
	}
	return out, err
}
