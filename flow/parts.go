package flow

import "github.com/smppd/smppd/codec"

// countParts reads the request's concatenation (codec.ReadParts): whether
// it is one part of a concatenated message, how many parts it is billed
// as, and s.text, the content after any UDH. A malformed UDH, sar_* set or
// payload refuses the message with codec's status.
func (s *submission) countParts() (codec.Status, Refusal) {
	if codec.SinglePart(s.esmClass, s.tlvs) { // most requests: no call
		s.text, s.parts, s.partRef, s.partNum, s.partTotal = s.content, 1, 0, 0, 0
		return codec.StatusOK, 0
	}
	var p codec.Parts
	st := codec.ReadParts(&p, s.esmClass, s.dataCoding, s.content, s.tlvs)
	s.text, s.parts, s.partRef, s.partNum, s.partTotal = p.Text, p.Count, p.Ref, p.Num, p.Total
	if st != codec.StatusOK {
		return st, RefuseMessage
	}
	return codec.StatusOK, 0
}
