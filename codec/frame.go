package codec

import "encoding/binary"

// FrameLen reads command_length from the first 4 octets of b.
//
// It returns (0, nil) when len(b) < 4: more bytes are needed. A length below
// 16 or above maxLen is ErrCmdLenTooSmall / ErrCmdLenTooLarge (Fatal,
// ESME_RINVCMDLEN): framing is lost, send generic_nack and close. maxLen 0
// means DefaultMaxPDULen. Nothing is allocated from the length, so a
// "HTTP" (0x48545450) length costs nothing.
func FrameLen(b []byte, maxLen uint32) (int, error) {
	if len(b) < 4 {
		return 0, nil
	}
	if maxLen == 0 {
		maxLen = DefaultMaxPDULen
	}
	n := binary.BigEndian.Uint32(b)
	if n < HeaderLen {
		return 0, ErrCmdLenTooSmall
	}
	if n > maxLen {
		return 0, ErrCmdLenTooLarge
	}
	return int(n), nil
}

// Frames walks the PDUs at the start of b without decoding them.
//
// whole is the number of leading octets that form complete PDUs (split them
// with FrameLen). need is how many more octets are required to complete the
// next PDU: 0 when b ends on a PDU boundary; when fewer than 4 octets of the
// next header are present, need is 4-len(rest) (enough to learn the length,
// the real need may be larger); otherwise command_length-len(rest).
// err is a fatal framing error (see FrameLen) found at offset whole: the
// PDUs before it are still complete and may be processed before closing.
func Frames(b []byte, maxLen uint32) (whole, need int, err error) {
	for {
		rest := b[whole:]
		if len(rest) == 0 {
			return whole, 0, nil
		}
		if len(rest) < 4 {
			return whole, 4 - len(rest), nil
		}
		n, err := FrameLen(rest, maxLen)
		if err != nil {
			return whole, 0, err
		}
		if len(rest) < n {
			return whole, n - len(rest), nil
		}
		whole += n
	}
}
