package bench

// receiptTextID returns the value of the "id:" field of a receipt text
// (SMPP 3.4 Appendix B: "id:IIIIIIIIII sub:SSS ..."), or nil. The key is
// matched in any case at the start or after a blank, blanks after the colon
// are skipped, and the value ends at a blank or NUL. The result is a view
// into text. Used when a receipt lacks the receipted_message_id TLV.
func receiptTextID(text []byte) []byte {
	for i := 0; i+3 <= len(text); i++ {
		if (i == 0 || text[i-1] == ' ') && text[i]|0x20 == 'i' && text[i+1]|0x20 == 'd' && text[i+2] == ':' {
			j := i + 3
			for j < len(text) && text[j] == ' ' {
				j++
			}
			k := j
			for k < len(text) && text[k] != ' ' && text[k] != 0 {
				k++
			}
			if k > j {
				return text[j:k]
			}
			return nil
		}
	}
	return nil
}
