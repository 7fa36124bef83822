package smppout

import (
	"strconv"

	"github.com/smppd/smppd/codec/receipt"
)

// maxKeys is the number of lookup keys one receipt id can have (IDAuto: as
// text, decimal read as hex, hex read as decimal).
const maxKeys = 3

// keyLen bounds a key: NormalizeID never returns more than max(len(id), 16)
// octets and ids are at most 65.
const keyLen = maxIDLen + 1

// idKeys holds the lookup keys of one upstream id in fixed storage.
type idKeys struct {
	n   int
	len [maxKeys]uint8
	buf [maxKeys][keyLen]byte
}

func (k *idKeys) key(i int) []byte { return k.buf[i][:k.len[i]] }

func (k *idKeys) add(key []byte) {
	if len(key) == 0 || len(key) > keyLen {
		return
	}
	for i := 0; i < k.n; i++ {
		if string(k.key(i)) == string(key) {
			return
		}
	}
	k.len[k.n] = uint8(copy(k.buf[k.n][:], key))
	k.n++
}

// respKey appends the IDMap key of a submit_sm_resp message_id.
func (c *client) respKey(dst, id []byte) []byte {
	return receipt.NormalizeID(dst, id, c.opts.RespIDFormat.base())
}

// receiptKeys fills k with the keys to look a receipt's id up by: the id in
// the receipt's base, and with IDAuto its other readings. scratch is a
// buffer of at least keyLen capacity.
func (c *client) receiptKeys(k *idKeys, id, scratch []byte) {
	k.n = 0
	if len(id) > maxIDLen {
		return
	}
	f := c.opts.ReceiptIDFormat
	k.add(receipt.NormalizeID(scratch[:0], id, f.base()))
	if f != IDAuto {
		return
	}
	if allDecimal(id) {
		k.add(receipt.NormalizeID(scratch[:0], id, receipt.IDDecimal))
	}
	if v, ok := hexValue(id); ok {
		k.add(strconv.AppendUint(scratch[:0], v, 10))
	}
}

func allDecimal(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// hexValue reads b (optional 0x prefix) as a hex number of at most 64 bits.
func hexValue(b []byte) (uint64, bool) {
	if len(b) > 2 && b[0] == '0' && b[1]|0x20 == 'x' {
		b = b[2:]
	}
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}
