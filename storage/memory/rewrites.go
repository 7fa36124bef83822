package memory

import (
	"github.com/smppd/smppd/internal/slab"
	"github.com/smppd/smppd/storage"
)

// upAddrs are a record's rewritten addresses (storage.Record.Rewritten).
type upAddrs struct {
	srcTON, srcNPI byte
	dstTON, dstNPI byte
	srcLen, dstLen uint8
	src, dst       [storage.MaxAddr]byte
}

// upSlab keeps the rewritten addresses of one record table's entries that
// have them (entry.up is the slab's handle, 0 for none): a store that
// never sees a rewrite allocates nothing here, and an entry stays small.
// Guarded by its table's mu.
type upSlab struct{ slab.Slab[upAddrs] }

// of returns the addresses at idx (an entry's up), nil for 0.
func (u *upSlab) of(idx int32) *upAddrs { return u.At(idx) }

// set keeps r's rewritten addresses for the entry whose up is *idx,
// taking a slot or freeing its own.
func (u *upSlab) set(idx *int32, r *storage.Record) {
	if !r.Rewritten {
		u.release(idx)
		return
	}
	if *idx == 0 {
		*idx = u.Take()
	}
	*u.of(*idx) = upAddrs{srcTON: r.UpSourceTON, srcNPI: r.UpSourceNPI, dstTON: r.UpDestTON, dstNPI: r.UpDestNPI,
		srcLen: uint8(min(int(r.UpSourceLen), storage.MaxAddr)), dstLen: uint8(min(int(r.UpDestLen), storage.MaxAddr)),
		src: r.UpSource, dst: r.UpDest}
}

// release frees the slot of the entry whose up is *idx, if any.
func (u *upSlab) release(idx *int32) {
	u.Free(*idx)
	*idx = 0
}

// copyTo puts the addresses at idx into out (nothing for 0).
func (u *upSlab) copyTo(idx int32, out *storage.Record) {
	p := u.of(idx)
	if p == nil {
		return
	}
	out.Rewritten = true
	out.UpSourceTON, out.UpSourceNPI, out.UpDestTON, out.UpDestNPI = p.srcTON, p.srcNPI, p.dstTON, p.dstNPI
	out.UpSourceLen, out.UpDestLen, out.UpSource, out.UpDest = p.srcLen, p.dstLen, p.src, p.dst
}
