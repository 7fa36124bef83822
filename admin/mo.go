package admin

import (
	"net/http"
	"time"

	"github.com/smppd/smppd/codec/charset"
	"github.com/smppd/smppd/msg"
)

// moRequest is the body of POST /v1/mo.
type moRequest struct {
	SourceAddr      string `json:"source_addr"`
	DestinationAddr string `json:"destination_addr"`
	ShortMessage    string `json:"short_message"`
	// SystemID sends the MO straight to that user; empty = the MO routes.
	SystemID string `json:"system_id"`
	// Encoding is "auto" (default: GSM 03.38 when every character has a
	// septet, else UCS2), "gsm7", "latin1" or "ucs2".
	Encoding  string `json:"encoding"`
	SourceTON *uint8 `json:"source_addr_ton"`
	SourceNPI *uint8 `json:"source_addr_npi"`
	DestTON   *uint8 `json:"dest_addr_ton"`
	DestNPI   *uint8 `json:"dest_addr_npi"`
}

// moResponse is the 202 body.
type moResponse struct {
	Status       string `json:"status"`
	DataCoding   uint8  `json:"data_coding"`
	Octets       int    `json:"octets"`
	SourceAddr   string `json:"source_addr"`
	Destination  string `json:"destination_addr"`
	SystemID     string `json:"system_id,omitempty"`
	PayloadInTLV bool   `json:"message_payload"`
}

const maxShortMessage = 254 // sm_length limit; longer text goes in message_payload

// MOStats returns the MO POST /v1/mo accepted since start.
func (s *Server) MOStats() (injected uint64) { return s.moInjected.Load() }

func (s *Server) injectMO(w http.ResponseWriter, r *http.Request) {
	if s.opts.MO == nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "MO injection is not wired")
		return
	}
	var req moRequest
	if !decodeJSON(w, r, &req) {
		return
	}
	if msg, ok := validateMO(&req); !ok {
		writeError(w, http.StatusBadRequest, "bad_request", msg)
		return
	}
	dc, text, err := encodeText(req.Encoding, req.ShortMessage)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	in := msg.Inbound{
		SystemID:   req.SystemID,
		SourceTON:  pick(req.SourceTON, 1),
		SourceNPI:  pick(req.SourceNPI, 1),
		Source:     []byte(req.SourceAddr),
		DestTON:    pick(req.DestTON, 0),
		DestNPI:    pick(req.DestNPI, 1),
		Dest:       []byte(req.DestinationAddr),
		DataCoding: byte(dc),
		Received:   time.Now().UnixNano(),
	}
	payload := len(text) > maxShortMessage
	if payload {
		in.TLVs = appendPayloadTLV(nil, text)
	} else {
		in.ShortMessage = text
	}
	if err := s.opts.MO.InjectMO(&in); err != nil {
		status, code := http.StatusUnprocessableEntity, "rejected"
		if s.opts.ErrorStatus != nil {
			status, code = s.opts.ErrorStatus(err)
		}
		writeError(w, status, code, err.Error())
		return
	}
	s.moInjected.Add(1)
	// The audit entry already names who sent which MO: a line per MO at
	// info would cost more CPU than the rest of the handler (a script can
	// inject thousands a second), so it is a debug line and a counter.
	if e := s.opts.Logger.Debug(); e.Enabled() {
		e.Str("event", "mo_injected").Str("source_addr", s.logNumber(req.SourceAddr)).
			Str("destination_addr", s.logNumber(req.DestinationAddr)).Str("system_id", req.SystemID).
			Uint8("data_coding", uint8(dc)).Int("octets", len(text)).Msg("operator MO accepted")
	}
	writeJSON(w, http.StatusAccepted, moResponse{Status: "accepted", DataCoding: uint8(dc), Octets: len(text),
		SourceAddr: req.SourceAddr, Destination: req.DestinationAddr, SystemID: req.SystemID, PayloadInTLV: payload})
}

// validateMO checks the fields against SMPP's limits (source and
// destination at most 20 octets, SMPP 3.4 §5.2.8-9; system_id at most 15).
func validateMO(r *moRequest) (string, bool) {
	switch {
	case r.SourceAddr == "":
		return "source_addr is required", false
	case len(r.SourceAddr) > 20:
		return "source_addr is longer than 20 octets", false
	case r.DestinationAddr == "":
		return "destination_addr is required", false
	case len(r.DestinationAddr) > 20:
		return "destination_addr is longer than 20 octets", false
	case len(r.SystemID) > 15:
		return "system_id is longer than 15 characters", false
	case len(r.ShortMessage) > 16<<10:
		return "short_message is longer than 16 KiB", false
	}
	return "", true
}

type encodingError string

func (e encodingError) Error() string { return string(e) }

// encodeText turns the UTF-8 text into the octets and data_coding of the
// chosen encoding.
func encodeText(enc, s string) (charset.Coding, []byte, error) {
	switch enc {
	case "", "auto":
		if b, ok := charset.AppendGSM7(nil, s); ok {
			return charset.CodingDefault, b, nil
		}
		return charset.CodingUCS2, charset.AppendUCS2(nil, s), nil
	case "gsm7":
		if b, ok := charset.AppendGSM7(nil, s); ok {
			return charset.CodingDefault, b, nil
		}
		return 0, nil, encodingError("short_message has characters outside the GSM 03.38 alphabet")
	case "latin1":
		if b, ok := charset.AppendLatin1(nil, s); ok {
			return charset.CodingLatin1, b, nil
		}
		return 0, nil, encodingError("short_message has characters outside Latin-1")
	case "ucs2":
		return charset.CodingUCS2, charset.AppendUCS2(nil, s), nil
	}
	return 0, nil, encodingError(`encoding must be "auto", "gsm7", "latin1" or "ucs2"`)
}

// appendPayloadTLV appends a message_payload TLV (tag 0x0424).
func appendPayloadTLV(dst, v []byte) []byte {
	dst = append(dst, 0x04, 0x24, byte(len(v)>>8), byte(len(v)))
	return append(dst, v...)
}

func pick(p *uint8, def uint8) uint8 {
	if p == nil {
		return def
	}
	return *p
}
