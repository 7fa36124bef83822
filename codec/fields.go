package codec

import (
	"encoding/binary"
	"math/bits"
)

// cfield describes one C-Octet String field: its maximum size including the
// NUL and the preallocated errors for each way it can be wrong.
type cfield struct {
	max     int          // octets including the NUL
	time    bool         // 1 or 17 octets only (schedule_delivery_time, validity_period)
	tooLong *DecodeError // no NUL within max octets: field-specific status
	noNUL   *DecodeError // body ends before the NUL: ESME_RINVCMDLEN (length and contents disagree)
	hasNUL  *DecodeError // encode: value contains a NUL
	badLen  *DecodeError // time field neither empty nor 16 characters
}

func newCField(name string, max int, st Status, time bool) *cfield {
	f := &cfield{max: max, time: time}
	f.tooLong = newErr(st, name, "longer than its maximum size", false)
	f.noNUL = newErr(StatusInvCmdLen, name, "C-Octet String has no NUL before the end of the PDU", false)
	f.hasNUL = newErr(st, name, "value contains a NUL octet", false)
	if time {
		f.badLen = newErr(st, name, "time must be empty or 16 characters", false)
	}
	return f
}

// The C-Octet String fields of v3.4 with their limits (SMPP 3.4 §4, the
// PDU tables) and the status each violation gets (§5.1.3; ESME_RINVCMDLEN
// for fields without a code of their own).
var (
	fSystemID       = newCField("system_id", 16, StatusInvSysID, false)
	fPassword       = newCField("password", 9, StatusInvPaswd, false)
	fSystemType     = newCField("system_type", 13, StatusInvSysTyp, false)
	fAddressRange   = newCField("address_range", 41, StatusInvCmdLen, false)
	fServiceType    = newCField("service_type", 6, StatusInvSerTyp, false)
	fSourceAddr     = newCField("source_addr", 21, StatusInvSrcAdr, false)
	fDestAddr       = newCField("destination_addr", 21, StatusInvDstAdr, false)
	fSourceAddr65   = newCField("source_addr", 65, StatusInvSrcAdr, false)
	fDestAddr65     = newCField("destination_addr", 65, StatusInvDstAdr, false)
	fESMEAddr       = newCField("esme_addr", 65, StatusInvCmdLen, false)
	fDLName         = newCField("dl_name", 21, StatusInvDLName, false)
	fMessageID      = newCField("message_id", 65, StatusInvMsgID, false)
	fScheduleTime   = newCField("schedule_delivery_time", 17, StatusInvSched, true)
	fValidityPeriod = newCField("validity_period", 17, StatusInvExpiry, true)
	fFinalDate      = newCField("final_date", 17, StatusInvCmdLen, false)
	fUnsuccessAddr  = newCField("destination_addr", 21, StatusInvDstAdr, false)
)

// cstr reads the C-Octet String starting at b[i]; it returns the value
// without its NUL as a view capped at its own length (appending to it cannot
// overwrite the frame) and the offset after the NUL. i <= len(b).
func cstr(b []byte, i int, f *cfield) ([]byte, int, *DecodeError) {
	rest := b[i:]
	j := -1
	if len(rest) >= 8 {
		// Most values end within eight octets: one word decides them.
		v := binary.LittleEndian.Uint64(rest)
		if t := (v - swarLo) &^ v & swarHi; t != 0 {
			j = bits.TrailingZeros64(t) >> 3
		} else if f.max > 8 {
			if j = nulIndex(rest[8:min(len(rest), f.max)]); j >= 0 {
				j += 8
			}
		}
	} else {
		j = nulIndex(rest[:min(len(rest), f.max)])
	}
	if j >= 0 && j < f.max {
		if f.time && j != 0 && j != 16 {
			return nil, i, f.badLen
		}
		return rest[:j:j], i + j + 1, nil
	}
	if len(rest) >= f.max {
		return nil, i, f.tooLong
	}
	return nil, i, f.noNUL
}

const (
	swarLo = 0x0101010101010101
	swarHi = 0x8080808080808080
)

// nulIndex returns the index of the first 0x00 in s, or -1. It tests eight
// octets per step (the "has zero byte" trick: the lowest flagged byte is
// always a real zero); SMPP strings are mostly under 22 octets, where a call
// into bytes.IndexByte costs more than it saves.
func nulIndex(s []byte) int {
	if len(s) < 8 {
		for j, c := range s {
			if c == 0 {
				return j
			}
		}
		return -1
	}
	i := 0
	for ; len(s)-i > 8; i += 8 {
		v := binary.LittleEndian.Uint64(s[i:])
		if t := (v - swarLo) &^ v & swarHi; t != 0 {
			return i + bits.TrailingZeros64(t)>>3
		}
	}
	// Last (possibly overlapping) word: octets before i are known non-zero.
	i = len(s) - 8
	v := binary.LittleEndian.Uint64(s[i:])
	if t := (v - swarLo) &^ v & swarHi; t != 0 {
		return i + bits.TrailingZeros64(t)>>3
	}
	return -1
}

// ccheck validates a C-Octet String value before encoding.
func ccheck(v []byte, f *cfield) *DecodeError {
	if len(v) >= f.max {
		return f.tooLong
	}
	if f.time && len(v) != 0 && len(v) != 16 {
		return f.badLen
	}
	if len(v) != 0 && nulIndex(v) >= 0 {
		return f.hasNUL
	}
	return nil
}

// putC writes v and its NUL at w[i:]; the caller sized w.
func putC(w []byte, i int, v []byte) int {
	i += copy(w[i:], v)
	w[i] = 0
	return i + 1
}

// putAddr writes an address triple at w[i:] like putC.
func putAddr(w []byte, i int, ton, npi uint8, a []byte) int {
	w[i], w[i+1] = ton, npi
	return putC(w, i+2, a)
}

// clen checks a C-Octet String's length rules only (the NUL check is done
// by putCS while copying, on the hot encoders).
func clen(v []byte, f *cfield) *DecodeError {
	if len(v) >= f.max {
		return f.tooLong
	}
	if f.time && len(v) != 0 && len(v) != 16 {
		return f.badLen
	}
	return nil
}

// putCS writes v and its NUL at w[i:] like putC, eight octets per step, and
// returns a non-zero flag if v contained a NUL (the caller then discards
// the frame). w must have room for len(v)+1 octets at i.
func putCS(w []byte, i int, v []byte) (int, uint64) {
	n := len(v)
	d := w[i : i+n+1]
	var z uint64
	if n < 8 {
		for k, c := range v {
			d[k] = c
			if c == 0 {
				z = 1
			}
		}
	} else {
		k := 0
		for ; n-k > 8; k += 8 {
			x := binary.LittleEndian.Uint64(v[k:])
			z |= (x - swarLo) &^ x & swarHi
			binary.LittleEndian.PutUint64(d[k:], x)
		}
		x := binary.LittleEndian.Uint64(v[n-8:])
		z |= (x - swarLo) &^ x & swarHi
		binary.LittleEndian.PutUint64(d[n-8:], x)
	}
	d[n] = 0
	return i + n + 1, z
}
