package flow

import (
	"errors"

	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/codec/concat"
)

// countParts finds whether the request is one part of a concatenated
// message (a UDH concatenation IE under esm_class UDHI, or the sar_* TLVs)
// and how many parts it is billed as: a part is 1; a message_payload is as
// many parts as concat.Count splits it into for its alphabet; anything else
// is 1. It also sets s.text, the content after any UDH.
//
// Statuses: UDHI set but no well-formed UDH, ESME_RINVESMCLASS; sar_*
// TLVs incomplete or inconsistent, ESME_RINVOPTPARAMVAL; a payload of more
// than 255 parts, ESME_RINVMSGLEN.
func (s *submission) countParts() (codec.Status, Refusal) {
	s.parts, s.partRef, s.partNum, s.partTotal = 1, 0, 0, 0
	body := s.content
	if s.esmClass&codec.ESMClassUDHI != 0 {
		udh, rest, err := concat.ParseUDH(body)
		if err != nil {
			return codec.StatusInvEsmClass, RefuseMessage
		}
		body = rest
		if udh.HasConcat {
			s.text = rest
			s.partRef, s.partNum, s.partTotal = udh.Concat.Ref, udh.Concat.Seq, udh.Concat.Total
			return codec.StatusOK, 0
		}
	}
	s.text = body
	if seg, ok, err := sarOf(s.tlvs); err != nil {
		return codec.StatusInvOptParamVal, RefuseMessage
	} else if ok {
		s.partRef, s.partNum, s.partTotal = seg.Ref, seg.Seq, seg.Total
		return codec.StatusOK, 0
	}
	if s.tlvs == nil || !s.tlvs.HasMessagePayload() || len(body) == 0 {
		return codec.StatusOK, 0
	}
	n, err := concat.Count(body, alphabetOf(s.dataCoding), concat.UDH8)
	if errors.Is(err, concat.ErrBadPayload) {
		// Octets that are not septets (Latin-1 text sent as data_coding 0)
		// or an odd UCS2 length: count octets, which never undercounts.
		n, err = concat.Count(body, concat.Octet, concat.UDH8)
	}
	if err != nil {
		return codec.StatusInvMsgLen, RefuseMessage
	}
	s.parts = n
	return codec.StatusOK, 0
}

// sarOf reads the sar_* TLVs: present is false when none is there.
func sarOf(t *codec.TLVs) (seg concat.Segment, present bool, err error) {
	if t == nil {
		return concat.Segment{}, false, nil
	}
	ref, _ := t.Get(codec.TagSarMsgRefNum)
	total, _ := t.Get(codec.TagSarTotalSegments)
	seq, _ := t.Get(codec.TagSarSegmentSeqnum)
	return concat.ParseSAR(ref, total, seq)
}

// alphabetOf maps data_coding to the unit concat counts in; reserved
// codings count as GSM7 (3GPP 23.038 §4).
func alphabetOf(dc byte) concat.Alphabet {
	switch charset.Classify(dc).Alphabet {
	case charset.Alphabet8Bit:
		return concat.Octet
	case charset.AlphabetUCS2:
		return concat.UCS2
	}
	return concat.GSM7
}
