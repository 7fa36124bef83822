package dlr

import (
	"encoding/binary"
	"errors"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/msg"
)

// A recipe is a receipt in compact form: what Encode built it from, about
// 80 octets against the 200 or so of its deliver_sm body, so a durable
// store can log the recipe instead of the body and build the same body
// again at a restart (Body). Little endian:
//
//	0  version (recipeV1)   1 flags (rDecimal, rIntermediate, rNetErr, rDone)
//	2  message_state        3 network_error_code (3 octets)
//	6  err u16              8 id u64
//	16 submit date, 24 done date: the zone's wall clock as Unix seconds, i64
//	32 the deliver_sm's source TON, NPI, destination TON, NPI
//	36 then length-prefixed (one octet) source, destination and the
//	   decoded text prefix
const (
	recipeV1      = 1
	recipeFixed   = 36
	rDecimal      = 1 << 0
	rIntermediate = 1 << 1
	rNetErr       = 1 << 2
	rDone         = 1 << 3
)

// ErrRecipe: a recipe that does not decode (damaged, or a newer version).
var ErrRecipe = errors.New("dlr: receipt recipe does not decode")

var le = binary.LittleEndian

// Recipe returns the recipe of the receipt Encode built last: a view into
// e, valid until its next call.
func (e *Encoder) Recipe() []byte {
	f := &e.f
	flags := flag(f.decimal, rDecimal) | flag(f.intermediate, rIntermediate) | flag(f.netErr, rNetErr) | flag(f.done, rDone)
	d := append(e.recipe[:0], recipeV1, flags, byte(f.state))
	d = append(d, f.netErrCode[:]...)
	d = le.AppendUint16(d, f.err)
	d = le.AppendUint64(d, uint64(f.id))
	d = le.AppendUint64(d, uint64(f.submitAt))
	d = le.AppendUint64(d, uint64(f.doneAt))
	d = append(d, f.srcTON, f.srcNPI, f.dstTON, f.dstNPI)
	for _, v := range [...][]byte{f.src, f.dst, f.text} {
		v = v[:min(len(v), 255)] // addresses are at most 21 octets, the text 20 characters
		d = append(d, byte(len(v)))
		d = append(d, v...)
	}
	e.recipe = d
	return d
}

func flag(on bool, bit byte) byte {
	if on {
		return bit
	}
	return 0
}

// decode sets f from recipe r (its byte fields views into r).
func (f *fields) decode(r []byte) error {
	if len(r) < recipeFixed || r[0] != recipeV1 {
		return ErrRecipe
	}
	flags := r[1]
	*f = fields{decimal: flags&rDecimal != 0, intermediate: flags&rIntermediate != 0, netErr: flags&rNetErr != 0,
		done: flags&rDone != 0, state: msg.State(r[2]), netErrCode: [3]byte{r[3], r[4], r[5]},
		err: le.Uint16(r[6:]), id: msg.ID(le.Uint64(r[8:])),
		submitAt: int64(le.Uint64(r[16:])), doneAt: int64(le.Uint64(r[24:])),
		srcTON: r[32], srcNPI: r[33], dstTON: r[34], dstNPI: r[35]}
	rest := r[recipeFixed:]
	for _, v := range [...]*[]byte{&f.src, &f.dst, &f.text} {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return ErrRecipe
		}
		*v, rest = rest[1:1+int(rest[0])], rest[1+int(rest[0]):]
	}
	if len(rest) != 0 {
		return ErrRecipe
	}
	return nil
}

// Body appends to dst the deliver_sm body (after the header) of the
// receipt recipe describes: the body Encode built from the same inputs,
// octet for octet. For a store's replay: it allocates.
func Body(dst, recipe []byte) ([]byte, error) {
	var e Encoder
	if err := e.f.decode(recipe); err != nil {
		return dst, err
	}
	var p codec.SM
	e.encode(&p)
	pdu, err := p.Append(nil, codec.Header{CommandID: codec.DeliverSMID})
	if err != nil {
		return dst, err
	}
	return append(dst, pdu[codec.HeaderLen:]...), nil
}
