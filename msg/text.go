package msg

// What a message says: its body and text, read from the wire fields the
// way SMPP 3.4 lays them out. msg imports nothing, so the two wire facts
// it needs are spelled out here.
const (
	// esmUDHI is the esm_class bit that says the body starts with a User
	// Data Header (SMPP 3.4 §5.2.12).
	esmUDHI = 0x40
	// TagMessagePayload is the message_payload TLV's tag (SMPP 3.4
	// §5.3.2.32).
	TagMessagePayload uint16 = 0x0424
)

// FindTLV returns the value of the first TLV with tag in b, an encoded TLV
// region (tag, length, value, ...; SMPP 3.4 §3.2.4), as a view into b; a
// truncated region ends the search.
func FindTLV(b []byte, tag uint16) ([]byte, bool) {
	for len(b) >= 4 {
		l := int(b[2])<<8 | int(b[3])
		if 4+l > len(b) {
			break
		}
		if uint16(b[0])<<8|uint16(b[1]) == tag {
			return b[4 : 4+l : 4+l], true
		}
		b = b[4+l:]
	}
	return nil, false
}

// Payload returns the message_payload TLV's value (a view into m).
func (m *Message) Payload() ([]byte, bool) { return FindTLV(m.TLVs, TagMessagePayload) }

// Body returns what the message carries: short_message, or the
// message_payload when short_message is empty (SMPP 3.4 §5.2.21 allows
// one of the two). A view into m, UDH included.
func (m *Message) Body() []byte {
	if len(m.ShortMessage) > 0 {
		return m.ShortMessage
	}
	b, _ := m.Payload()
	return b
}

// Text returns the body after its User Data Header when esm_class says it
// has one and the header is well formed (its length and every
// information element's length fit); otherwise the whole body. A view
// into m: what the user wrote, for records and logs.
func (m *Message) Text() []byte {
	body := m.Body()
	if m.ESMClass&esmUDHI == 0 || len(body) == 0 {
		return body
	}
	n := 1 + int(body[0])
	if n > len(body) {
		return body
	}
	for ies := body[1:n]; len(ies) > 0; {
		if len(ies) < 2 || 2+int(ies[1]) > len(ies) {
			return body
		}
		ies = ies[2+int(ies[1]):]
	}
	return body[n:]
}
