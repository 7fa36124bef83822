package disk

import (
	"encoding/binary"
	"errors"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// Entry kinds: the byte the log frames with each payload. A full-state
// entry (kPut, kRecord, kUpstream, kUpstreamOf, kHold, kHoldRecipe, kBalance, kDead,
// kIDFloor, and kLedger's LedgerSet) is enough to rebuild its object; the
// others change an object a full-state entry before them made. Numbers are
// part of the on-disk format: never reuse one.
const (
	kPut        byte = 1  // a record (Put, PutMessage): full state, its ledger change, the message body
	kRecord     byte = 2  // a record as it stands (compaction): full state and body, no ledger change
	kState      byte = 3  // SetState, Finish
	kAccepted   byte = 4  // SetAccepted
	kReplaced   byte = 5  // SetReplaced
	kDelete     byte = 6  // Delete
	kUpstream   byte = 7  // PutUpstream: (connector, upstream id) -> our id
	kUpstreamOf byte = 8  // PutUpstreamOf: our id -> upstream id
	kHold       byte = 9  // a held item, full state
	kRelease    byte = 10 // a held item's attempts
	kAck        byte = 11 // a held item gone
	kLedger     byte = 12 // a ledger entry
	kBalance    byte = 13 // a user's balance as it stands (compaction)
	kDead       byte = 14 // a dead letter
	kIDFloor    byte = 15 // the id generator's high-water mark
	// 16 and 17: a message's callback and its removal (callbacks.go).
	// 18: dead letters an operator removed (kDeadDel, inspect.go).
	kHoldRecipe byte = 19 // a held item, full state, with its recipe for its Body (Options.Rebuild)
)

// Record entry layout (kPut, kRecord), little endian:
//
//	0  id u64         8 submitted i64   16 done i64      24 expires i64
//	32 charge i64     40 ledger change i64 (kPut: what the balance lost)
//	48 quota parts change i32 (kPut: what the quota account lost)
//	52 connector i32  56 err u16        58 charged parts u16
//	60 state          61 later state    62 flags
//	63 registered_delivery, data_coding, esm_class, source TON, NPI,
//	   dest TON, NPI, parts (8 octets)
//	71 then length-prefixed (one octet) system_id, source, destination and
//	   text prefix; with fRoute in the flags, the MT route's name, also
//	   length-prefixed; with fUp, the addresses the policy rewrote them to:
//	   source TON, NPI, dest TON, NPI (4 octets), then source and
//	   destination length-prefixed; the rest is the message body. An entry
//	   written before fRoute or fUp existed reads as it always did.
const recFixed = 71

// charges is what a kPut takes from its owner's balance and quota account.
type charges struct{ money, parts int64 }

// Record flags.
const (
	fAccepted byte = 1 << iota // a connector accepted it: its body is dropped
	fBody                      // the log holds its message body (at its anchor)
	fRoute                     // entries only: the MT route's name follows the text prefix
	fUp                        // entries only: the rewritten addresses follow (the route)
)

// errBadEntry: an entry that passed its checksum but does not decode (a
// bug, or a newer kind of entry): replay counts and skips it.
var errBadEntry = errors.New("disk: entry does not decode")

// errNoRebuild: a kHoldRecipe replayed by a store opened without
// Options.Rebuild, which cannot build its Body.
var errNoRebuild = errors.New("disk: a held item logged as a recipe, and no Options.Rebuild to build its body")

var le = binary.LittleEndian

// appendRecord appends a record entry's payload for s (owned by user, sent
// on the MT route named route, "" if none, rewritten to u, nil if not)
// with ledger changes d and body to dst.
func appendRecord(dst []byte, s *recSlot, u *upAddrs, user, route string, d charges, body []byte) []byte {
	dst = le.AppendUint64(dst, uint64(s.id))
	dst = le.AppendUint64(dst, uint64(s.submitted))
	dst = le.AppendUint64(dst, uint64(s.done))
	dst = le.AppendUint64(dst, uint64(s.expires))
	dst = le.AppendUint64(dst, uint64(s.charge))
	dst = le.AppendUint64(dst, uint64(d.money))
	dst = le.AppendUint32(dst, uint32(int32(d.parts)))
	dst = le.AppendUint32(dst, uint32(s.connector))
	dst = le.AppendUint16(dst, s.err)
	dst = le.AppendUint16(dst, s.parts16)
	flags := s.flags &^ (fRoute | fUp)
	if route != "" {
		flags |= fRoute
	}
	if u != nil && u.rewritten {
		flags |= fUp
	}
	dst = append(dst, byte(s.state), byte(s.later), flags, s.regDel, s.dataCod, s.esmClass,
		s.srcTON, s.srcNPI, s.dstTON, s.dstNPI, s.parts)
	dst = appendShort(dst, user)
	dst = appendShortBytes(dst, s.src[:s.srcLen])
	dst = appendShortBytes(dst, s.dst[:s.dstLen])
	dst = appendShortBytes(dst, s.text[:s.textLen])
	if route != "" {
		dst = appendShort(dst, route)
	}
	if u != nil && u.rewritten {
		dst = append(dst, u.srcTON, u.srcNPI, u.dstTON, u.dstNPI)
		dst = appendShortBytes(dst, u.src[:u.srcLen])
		dst = appendShortBytes(dst, u.dst[:u.dstLen])
	}
	return append(dst, body...)
}

// decodeRecord fills s (its slot bookkeeping untouched) and u (its
// rewritten addresses; u.rewritten false: none) from a record entry and
// returns the owner and the MT route's name (views into p, the route nil
// when the entry has none), the ledger changes and the body (a view).
func decodeRecord(p []byte, s *recSlot, u *upAddrs) (user, route []byte, d charges, body []byte, err error) {
	if len(p) < recFixed {
		return nil, nil, d, nil, errBadEntry
	}
	s.id = msg.ID(le.Uint64(p))
	s.submitted = int64(le.Uint64(p[8:]))
	s.done = int64(le.Uint64(p[16:]))
	s.expires = int64(le.Uint64(p[24:]))
	s.charge = int64(le.Uint64(p[32:]))
	d.money = int64(le.Uint64(p[40:]))
	d.parts = int64(int32(le.Uint32(p[48:])))
	s.connector = int32(le.Uint32(p[52:]))
	s.err = le.Uint16(p[56:])
	s.parts16 = le.Uint16(p[58:])
	s.state, s.later, s.flags = msg.State(p[60]), msg.State(p[61]), p[62]
	s.regDel, s.dataCod, s.esmClass = p[63], p[64], p[65]
	s.srcTON, s.srcNPI, s.dstTON, s.dstNPI, s.parts = p[66], p[67], p[68], p[69], p[70]
	rest := p[recFixed:]
	var src, dst, text []byte
	ok := true
	user, rest, ok = short(rest, ok, 255)
	src, rest, ok = short(rest, ok, storage.MaxAddr)
	dst, rest, ok = short(rest, ok, storage.MaxAddr)
	text, rest, ok = short(rest, ok, storage.MaxText)
	if s.flags&fRoute != 0 {
		s.flags &^= fRoute
		route, rest, ok = short(rest, ok, 255)
	}
	*u = upAddrs{}
	if s.flags&fUp != 0 {
		s.flags &^= fUp
		if ok = ok && len(rest) >= 4; ok {
			*u = upAddrs{rewritten: true, srcTON: rest[0], srcNPI: rest[1], dstTON: rest[2], dstNPI: rest[3]}
			rest = rest[4:]
		}
		var usrc, udst []byte
		usrc, rest, ok = short(rest, ok, storage.MaxAddr)
		udst, rest, ok = short(rest, ok, storage.MaxAddr)
		u.srcLen = uint8(copy(u.src[:], usrc))
		u.dstLen = uint8(copy(u.dst[:], udst))
	}
	if !ok {
		return nil, nil, d, nil, errBadEntry
	}
	s.srcLen = uint8(copy(s.src[:], src))
	s.dstLen = uint8(copy(s.dst[:], dst))
	s.textLen = uint8(copy(s.text[:], text))
	return user, route, d, rest, nil
}

// appendState: kState's payload.
func appendState(dst []byte, id msg.ID, st msg.State, errCode uint16, done int64) []byte {
	dst = le.AppendUint64(dst, uint64(id))
	dst = le.AppendUint64(dst, uint64(done))
	dst = le.AppendUint16(dst, errCode)
	return append(dst, byte(st))
}

// decodeState decodes kState and kAccepted (the same layout: for kAccepted
// the state is the decided final one, 0 for none, and done its time).
func decodeState(p []byte) (id msg.ID, st msg.State, errCode uint16, done int64, err error) {
	if len(p) != 19 {
		return 0, 0, 0, 0, errBadEntry
	}
	return msg.ID(le.Uint64(p)), msg.State(p[18]), le.Uint16(p[16:]), int64(le.Uint64(p[8:])), nil
}

// appendReplaced: kReplaced's payload.
func appendReplaced(dst []byte, id msg.ID, submitted int64, regDel, parts byte, text []byte) []byte {
	dst = le.AppendUint64(dst, uint64(id))
	dst = le.AppendUint64(dst, uint64(submitted))
	dst = append(dst, regDel, parts)
	return appendShortBytes(dst, text)
}

func decodeReplaced(p []byte) (id msg.ID, submitted int64, regDel, parts byte, text []byte, err error) {
	if len(p) < 18 {
		return 0, 0, 0, 0, nil, errBadEntry
	}
	text, rest, ok := short(p[18:], true, storage.MaxText)
	if !ok || len(rest) != 0 {
		return 0, 0, 0, 0, nil, errBadEntry
	}
	return msg.ID(le.Uint64(p)), int64(le.Uint64(p[8:])), p[16], p[17], text, nil
}

// appendID: the payload of kDelete and kAck (a key), and kIDFloor.
func appendID(dst []byte, v uint64) []byte { return le.AppendUint64(dst, v) }

func decodeID(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, errBadEntry
	}
	return le.Uint64(p), nil
}

// appendUpstream: kUpstream's and kUpstreamOf's payload (connector -1 in
// kUpstreamOf).
func appendUpstream(dst []byte, id msg.ID, until int64, conn int32, key []byte) []byte {
	dst = le.AppendUint64(dst, uint64(id))
	dst = le.AppendUint64(dst, uint64(until))
	dst = le.AppendUint32(dst, uint32(conn))
	return append(dst, key...)
}

func decodeUpstream(p []byte) (id msg.ID, until int64, conn int32, key []byte, err error) {
	if len(p) < 20 || len(p) > 20+storage.MaxUpstreamID {
		return 0, 0, 0, nil, errBadEntry
	}
	return msg.ID(le.Uint64(p)), int64(le.Uint64(p[8:])), int32(le.Uint32(p[16:])), p[20:], nil
}

// appendHold: kHold's payload for the item h under durable key key; for
// kHoldRecipe the same with h.Recipe in place of h.Body.
func appendHold(dst []byte, key uint64, h *storage.Held, body []byte) []byte {
	dst = le.AppendUint64(dst, key)
	dst = le.AppendUint64(dst, uint64(h.ID))
	dst = le.AppendUint64(dst, uint64(h.Expires))
	dst = le.AppendUint32(dst, uint32(h.Attempts))
	dst = append(dst, byte(h.Kind))
	dst = appendShort(dst, h.SystemID)
	return append(dst, body...)
}

// decodeHold fills h (SystemID and Body as views into p; of a
// kHoldRecipe, Body is the recipe) and returns the durable key.
func decodeHold(p []byte, h *storage.Held) (key uint64, user []byte, err error) {
	if len(p) < 29 {
		return 0, nil, errBadEntry
	}
	key = le.Uint64(p)
	h.ID = msg.ID(le.Uint64(p[8:]))
	h.Expires = int64(le.Uint64(p[16:]))
	h.Attempts = int(int32(le.Uint32(p[24:])))
	h.Kind = storage.HeldKind(p[28])
	user, rest, ok := short(p[29:], true, 255)
	if !ok {
		return 0, nil, errBadEntry
	}
	h.Body = rest
	return key, user, nil
}

// appendRelease: kRelease's payload.
func appendRelease(dst []byte, key uint64, attempts int) []byte {
	dst = le.AppendUint64(dst, key)
	return le.AppendUint32(dst, uint32(attempts))
}

func decodeRelease(p []byte) (key uint64, attempts int, err error) {
	if len(p) != 12 {
		return 0, 0, errBadEntry
	}
	return le.Uint64(p), int(int32(le.Uint32(p[8:]))), nil
}

// appendLedger: kLedger's payload.
func appendLedger(dst []byte, e *storage.LedgerEntry) []byte {
	dst = le.AppendUint64(dst, uint64(e.Amount))
	dst = le.AppendUint64(dst, uint64(e.ID))
	dst = append(dst, byte(e.Kind))
	return appendShort(dst, e.SystemID)
}

func decodeLedger(p []byte) (kind storage.LedgerKind, amount int64, user []byte, err error) {
	if len(p) < 17 {
		return 0, 0, nil, errBadEntry
	}
	user, rest, ok := short(p[17:], true, 255)
	if !ok || len(rest) != 0 {
		return 0, 0, nil, errBadEntry
	}
	return storage.LedgerKind(p[16]), int64(le.Uint64(p)), user, nil
}

// appendBalance: kBalance's payload.
func appendBalance(dst []byte, user string, balance int64, set bool) []byte {
	dst = le.AppendUint64(dst, uint64(balance))
	b := byte(0)
	if set {
		b = 1
	}
	dst = append(dst, b)
	return appendShort(dst, user)
}

func decodeBalance(p []byte) (balance int64, set bool, user []byte, err error) {
	if len(p) < 9 {
		return 0, false, nil, errBadEntry
	}
	user, rest, ok := short(p[9:], true, 255)
	if !ok || len(rest) != 0 {
		return 0, false, nil, errBadEntry
	}
	return int64(le.Uint64(p)), p[8] == 1, user, nil
}

// appendDead: kDead's payload for letter d, number seq.
func appendDead(dst []byte, seq uint64, d *storage.DeadLetter) []byte {
	dst = le.AppendUint64(dst, seq)
	dst = le.AppendUint64(dst, uint64(d.ID))
	dst = le.AppendUint64(dst, uint64(d.At))
	dst = le.AppendUint32(dst, uint32(d.Connector))
	dst = append(dst, byte(d.Kind))
	dst = appendShort(dst, d.SystemID)
	dst = le.AppendUint16(dst, uint16(len(d.Reason)))
	dst = append(dst, d.Reason...)
	return append(dst, d.Body...)
}

// decodeDead fills d (SystemID, Reason and Body left empty) and returns
// the letter's number and views of those three.
func decodeDead(p []byte, d *storage.DeadLetter) (seq uint64, user, reason, body []byte, err error) {
	if len(p) < 29 {
		return 0, nil, nil, nil, errBadEntry
	}
	seq = le.Uint64(p)
	d.ID = msg.ID(le.Uint64(p[8:]))
	d.At = int64(le.Uint64(p[16:]))
	d.Connector = int32(le.Uint32(p[24:]))
	d.Kind = storage.HeldKind(p[28])
	user, rest, ok := short(p[29:], true, 255)
	if !ok || len(rest) < 2 || len(rest)-2 < int(le.Uint16(rest)) {
		return 0, nil, nil, nil, errBadEntry
	}
	n := int(le.Uint16(rest))
	return seq, user, rest[2 : 2+n], rest[2+n:], nil
}

// appendShort appends s with a one-octet length; callers keep s at most
// 255 octets (system_id is at most 15, SMPP v3.4 §5.2.1).
func appendShort(dst []byte, s string) []byte {
	s = s[:min(len(s), 255)]
	dst = append(dst, byte(len(s)))
	return append(dst, s...)
}

func appendShortBytes(dst, b []byte) []byte {
	b = b[:min(len(b), 255)]
	dst = append(dst, byte(len(b)))
	return append(dst, b...)
}

// short takes a one-octet length and that many octets (at most max) off
// the front of p; ok stays false once a field did not fit.
func short(p []byte, ok bool, max int) (field, rest []byte, _ bool) {
	if !ok || len(p) < 1 || int(p[0]) > max || len(p) < 1+int(p[0]) {
		return nil, p, false
	}
	n := 1 + int(p[0])
	return p[1:n], p[n:], true
}
