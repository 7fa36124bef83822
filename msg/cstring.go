package msg

// Character rules for the C-octet strings an operator configures (system_id,
// password, system_type, addresses), shared by every place that validates
// one so the config file, the admin API and the connector kinds agree.

// PrintableNoSpace reports whether s is printable ASCII without spaces: the
// rule for identifiers such as system_id and group names.
func PrintableNoSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// NoControl reports whether s has no NUL or other control character: a
// C-octet string (SMPP v3.4 §3.1) ends at its NUL, and control characters in
// a configured address or password only ever come from a typo or an attack.
func NoControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
