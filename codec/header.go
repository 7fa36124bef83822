package codec

import "encoding/binary"

// Header is the 16-octet PDU header.
type Header struct {
	Length    uint32 // command_length, header included; ignored by Append
	CommandID CommandID
	Status    Status
	Sequence  uint32
}

// ParseHeader reads the header at the start of b. It needs len(b) >= 16
// (else ErrShortHeader) and does not validate Length: use FrameLen for that.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, ErrShortHeader
	}
	return Header{
		Length:    binary.BigEndian.Uint32(b[0:4]),
		CommandID: CommandID(binary.BigEndian.Uint32(b[4:8])),
		Status:    Status(binary.BigEndian.Uint32(b[8:12])),
		Sequence:  binary.BigEndian.Uint32(b[12:16]),
	}, nil
}

// putHeader writes a header with the given length into w[0:16].
func putHeader(w []byte, n int, h Header) {
	_ = w[15]
	binary.BigEndian.PutUint32(w[0:4], uint32(n))
	binary.BigEndian.PutUint32(w[4:8], uint32(h.CommandID))
	binary.BigEndian.PutUint32(w[8:12], uint32(h.Status))
	binary.BigEndian.PutUint32(w[12:16], h.Sequence)
}

// AppendHeaderOnly appends a 16-octet PDU (unbind, unbind_resp,
// enquire_link, enquire_link_resp, generic_nack, cancel_sm_resp,
// replace_sm_resp) built from h; h.Length is ignored. dst's existing bytes
// are not touched; no allocation when dst has 16 octets of spare capacity.
func AppendHeaderOnly(dst []byte, h Header) []byte {
	start := len(dst)
	dst = grow(dst, HeaderLen)
	putHeader(dst[start:], HeaderLen, h)
	return dst
}

// DecodeEmpty checks the body of a header-only PDU: it must be empty
// (ErrBodyNotEmpty, ESME_RINVCMDLEN, otherwise). Receivers that want to be
// lenient with header-only responses carrying stray octets (some peers send
// enquire_link_resp with a 0x00) simply skip this call; PDU.Decode does so
// for responses.
func DecodeEmpty(body []byte) error {
	if len(body) != 0 {
		return ErrBodyNotEmpty
	}
	return nil
}

// grow extends dst by n octets, reallocating only when capacity is short.
// The new octets are not cleared: callers overwrite all of them.
func grow(dst []byte, n int) []byte {
	l := len(dst)
	if cap(dst)-l < n {
		nd := make([]byte, l, l+n+l/4)
		copy(nd, dst)
		dst = nd
	}
	return dst[:l+n]
}
