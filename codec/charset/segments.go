package charset

// Long-message limits and counting (3GPP 23.040 §9.2.3.24).

const (
	// MaxUserData is the TP-UD size of one SMS in octets.
	MaxUserData = 140
	// UDHConcat8 is the length of a concatenation UDH with an 8-bit
	// reference (05 00 03 RR TT SS), UDHL octet included.
	UDHConcat8 = 6
	// UDHConcat16 is the length of a concatenation UDH with a 16-bit
	// reference (06 08 04 RR RR TT SS).
	UDHConcat16 = 7
	// MaxSegments is the most parts a concatenated message can have
	// (1-octet counters).
	MaxSegments = 255
	// maxUDH keeps room for at least one 2-unit character per part.
	maxUDH = MaxUserData - 4
)

// Capacity returns how many units of alphabet a holds in one SMS after a UDH
// of udhLen octets: septets for GSM7, octets for 8-bit, UTF-16 units for
// UCS2. GSM7 160/153/152, 8-bit 140/134/133, UCS2 70/67/66 for udhLen
// 0/6/7. It returns 0 for AlphabetReserved or udhLen outside 0..136.
func Capacity(a Alphabet, udhLen int) int {
	if udhLen < 0 || udhLen > maxUDH {
		return 0
	}
	room := MaxUserData - udhLen
	switch a {
	case AlphabetGSM7:
		return room * 8 / 7
	case Alphabet8Bit:
		return room
	case AlphabetUCS2:
		return room / 2
	}
	return 0
}

// Segments returns how many SMS text s needs in coding c and how many
// units each part holds, using a concatenation UDH with an 8-bit reference
// (UDHConcat8). See SegmentsUDH.
func Segments(s string, c Coding) (parts int, perPart int) {
	return SegmentsUDH(s, c, UDHConcat8)
}

// SegmentsUDH returns how many SMS text s needs in coding c when every part
// of a long message carries a UDH of udhLen octets, and the capacity of
// each part (the single-SMS capacity when parts is 1).
//
// Units follow c's alphabet (Classify): septets with extension characters
// as 2; UTF-16 units with characters above U+FFFF as 2; octets, where
// IA5/Latin-1 take one per character and the other 8-bit codings one per
// byte of s. A 2-unit character is never split: a part that cannot hold it
// ends early, as SegmentLen splits. Unrepresentable characters count as the
// '?' the lossy encoders send. An empty text is one part. parts may exceed
// MaxSegments; the caller refuses such texts. A reserved coding or a
// udhLen outside 0..136 returns 0, 0.
func SegmentsUDH(s string, c Coding, udhLen int) (parts int, perPart int) {
	a := c.Alphabet()
	single, per := Capacity(a, 0), Capacity(a, udhLen)
	if per == 0 {
		return 0, 0
	}
	k := counter{per: per, parts: 1}
	switch {
	case a == AlphabetGSM7:
		for _, r := range s {
			if _, ext, ok := gsmEncode(r); ok && ext {
				k.add(2)
			} else {
				k.add(1)
			}
		}
	case a == AlphabetUCS2:
		for _, r := range s {
			if r > 0xFFFF {
				k.add(2)
			} else {
				k.add(1)
			}
		}
	case c == CodingIA5 || c == CodingLatin1:
		for range s {
			k.add(1)
		}
	default:
		k.total = len(s)
		k.parts = (len(s) + per - 1) / per
	}
	if k.total <= single {
		return 1, single
	}
	return k.parts, per
}

// counter packs units greedily into parts of per units.
type counter struct {
	total, parts, used, per int
}

func (k *counter) add(w int) {
	k.total += w
	if k.used+w > k.per {
		k.parts++
		k.used = 0
	}
	k.used += w
}

// SegmentLen returns how many leading octets of encoded text enc (unpacked
// GSM7 septets, UTF-16BE or 8-bit octets, per c's alphabet) fit in one part
// of maxUnits units without splitting an escape pair or a surrogate pair.
// Call it repeatedly on the remainder to split a long message; the number
// of parts matches SegmentsUDH. It returns 0 when maxUnits < 2 and the text
// starts with a 2-unit character, or for a reserved coding.
func SegmentLen(enc []byte, c Coding, maxUnits int) int {
	if maxUnits <= 0 {
		return 0
	}
	switch c.Alphabet() {
	case AlphabetGSM7:
		i := 0
		for i < len(enc) {
			w := 1
			if enc[i] == gsmEscape && i+1 < len(enc) {
				w = 2
			}
			if i+w > maxUnits {
				break
			}
			i += w
		}
		return i
	case AlphabetUCS2:
		n := len(enc) &^ 1
		if n <= 2*maxUnits {
			return n
		}
		n = 2 * maxUnits
		// A high surrogate followed by a low one stays with its pair.
		if hi := enc[n-2]; hi >= 0xD8 && hi <= 0xDB {
			if lo := enc[n]; lo >= 0xDC && lo <= 0xDF {
				n -= 2
			}
		}
		return n
	case Alphabet8Bit:
		return min(len(enc), maxUnits)
	}
	return 0
}

// Preference selects the codings Cheapest may pick.
type Preference struct {
	// AllowLatin1 lets text that is not GSM7 but fits ISO-8859-1 go out as
	// Latin-1 (140 characters) instead of UCS2 (70). Off by default: many
	// handsets do not render data_coding 3.
	AllowLatin1 bool
}

// Cheapest returns the coding with the fewest parts for s among GSM7 and
// UCS2: GSM7 when every character is in the default alphabet or its
// extension, otherwise UCS2.
func Cheapest(s string) Coding { return Preference{}.Cheapest(s) }

// Cheapest returns CodingDefault (GSM7) when every character of s is in the
// default alphabet or its extension, else CodingLatin1 if p.AllowLatin1 and
// every character is at most U+00FF, else CodingUCS2. Invalid UTF-8 picks
// UCS2, whose encoder turns it into U+FFFD.
func (p Preference) Cheapest(s string) Coding {
	gsm, latin := true, p.AllowLatin1
	for _, r := range s {
		if gsm {
			_, _, gsm = gsmEncode(r)
		}
		if latin && r > 0xFF {
			latin = false
		}
		if !gsm && !latin {
			return CodingUCS2
		}
	}
	if gsm {
		return CodingDefault
	}
	return CodingLatin1
}
