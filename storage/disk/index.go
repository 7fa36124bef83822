package disk

import "github.com/smppd/smppd/msg"

// The record index: id -> slot in a shard's slab. A msg.ID is a
// millisecond slot and a sequence above idNodeBits of node id, and one
// generator issues its ids one after the other, so id>>idNodeBits is a
// dense counter. The store picks a record's shard by the counter's low
// shardBits bits (Store.recShard), so each shard's ids are dense too, and
// a shard indexes them in pages of ixPageSize slot numbers addressed by
// the counter: a put or a lookup touches the page the recent ids share
// (one cache line per 16 ids), where a hash map touched a random line of a
// table as large as the store, and a table whose growth copied it. A page
// costs 4 KiB for 1024 ids (4 octets per id against a hash map's 20 or
// so); an id outside the generator's pattern (tests, another node) still
// works, at the price of a page of its own.

// idNodeBits is the width of msg.ID's node field (msg.MaxNodeID); the
// array length below fails to compile if msg changes it.
const idNodeBits = 12

var _ = [1]struct{}{}[msg.MaxNodeID+1-1<<idNodeBits]

const (
	ixPageBits = 10
	ixPageSize = 1 << ixPageBits
)

// ixPage is the slots of ixPageSize consecutive ids of one shard: slot+1,
// 0 for none.
type ixPage struct {
	slot [ixPageSize]int32
	used int32
}

// idIndex is one shard's index; its shard's lock guards it.
type idIndex struct {
	pages   map[uint64]*ixPage
	lastKey uint64 // the page used last, which the next call most likely wants
	last    *ixPage
	spare   *ixPage // the page freed last, kept for the next one needed
	n       int
}

func (x *idIndex) init() { x.pages = make(map[uint64]*ixPage) }

// ixAt returns the page key and the offset in that page of id (of the
// shard id's counter selects).
func ixAt(id msg.ID) (key uint64, off int) {
	y := uint64(id) >> (idNodeBits + shardBits) // the counter within the shard
	node := uint64(id) & msg.MaxNodeID
	return (y>>ixPageBits)<<idNodeBits | node, int(y & (ixPageSize - 1))
}

// page returns the page of key, nil when there is none.
func (x *idIndex) page(key uint64) *ixPage {
	if x.last != nil && x.lastKey == key {
		return x.last
	}
	p := x.pages[key]
	if p != nil {
		x.last, x.lastKey = p, key
	}
	return p
}

// get returns id's slot.
func (x *idIndex) get(id msg.ID) (int32, bool) {
	key, off := ixAt(id)
	p := x.page(key)
	if p == nil || p.slot[off] == 0 {
		return 0, false
	}
	return p.slot[off] - 1, true
}

// set indexes id, which is not indexed, at slot i.
func (x *idIndex) set(id msg.ID, i int32) {
	key, off := ixAt(id)
	p := x.page(key)
	if p == nil {
		p = x.spare
		x.spare = nil
		if p == nil {
			p = new(ixPage)
			// Written before get reads it, so that its fresh pages are
			// mapped writable at once (see installAt).
			p.used = 0
			for i := 0; i < ixPageSize; i += 512 {
				p.slot[i] = 0
			}
		}
		x.pages[key] = p
		x.last, x.lastKey = p, key
	}
	if p.slot[off] == 0 {
		p.used++
		x.n++
	}
	p.slot[off] = i + 1
}

// del removes id; a page left empty is freed.
func (x *idIndex) del(id msg.ID) {
	key, off := ixAt(id)
	p := x.page(key)
	if p == nil || p.slot[off] == 0 {
		return
	}
	p.slot[off] = 0
	p.used--
	x.n--
	if p.used == 0 {
		delete(x.pages, key)
		if x.last == p {
			x.last = nil
		}
		x.spare = p // empty: every slot is 0 again
	}
}

// len is the number of ids indexed.
func (x *idIndex) len() int { return x.n }
