package accounts

import "strings"

// Right is one thing a user may do on the HTTP API, named as Jasmin's
// mt_messaging_cred authorizations are (so a Jasmin user's "authorization
// http_send False" becomes deny = ["http_send"]). Every right is granted
// unless the user's Deny lists it, as Jasmin grants them by default. The
// rights Jasmin shares with SMPP are the user's other keys: set_dlr_level is
// receipts, set_source_address is source_addrs, set_priority is
// max_priority and set_validity_period is max_validity.
type Right uint16

// Rights, each one bit of a Rights set.
const (
	RightHTTPSend            Right = 1 << iota // http_send: POST/GET /send and POST /v1/messages
	RightHTTPBalance                           // http_balance: /balance
	RightHTTPRate                              // http_rate: /rate
	RightHTTPLongContent                       // http_long_content: content of more than one part
	RightHTTPSetDLRMethod                      // http_set_dlr_method: choose dlr-method
	RightSetHexContent                         // set_hex_content: hex-content (binary) instead of content
	RightSetScheduleDelivery                   // set_schedule_delivery_time: sdt
	numRights                = iota
)

// Rights is a set of Right bits.
type Rights uint16

var rightNames = [numRights]string{
	"http_send", "http_balance", "http_rate", "http_long_content",
	"http_set_dlr_method", "set_hex_content", "set_schedule_delivery_time",
}

// String is the users file's name of r.
func (r Right) String() string {
	for i := range numRights {
		if r == 1<<i {
			return rightNames[i]
		}
	}
	return "right(invalid)"
}

// ParseRight finds a right by its users file name.
func ParseRight(name string) (Right, bool) {
	for i, n := range rightNames {
		if n == name {
			return 1 << i, true
		}
	}
	return 0, false
}

// RightNames lists every right's name, for error messages and docs.
func RightNames() string { return strings.Join(rightNames[:], ", ") }

// Has reports whether r is in the set.
func (s Rights) Has(r Right) bool { return s&Rights(r) != 0 }

// Names lists the set's rights by name, in declaration order; nil when
// empty.
func (s Rights) Names() []string {
	var out []string
	for i := range numRights {
		if s&(1<<i) != 0 {
			out = append(out, rightNames[i])
		}
	}
	return out
}

// May reports whether the user holds right r (its Deny does not list it).
func (u *User) May(r Right) bool { return !u.Deny.Has(r) }

// parseDeny reads the deny list into c's user: unknown and repeated names
// are problems of key "deny".
func parseDeny(names []string, c *Check) Rights {
	var s Rights
	for _, n := range names {
		r, ok := ParseRight(n)
		switch {
		case !ok:
			c.fail("deny", "unknown right %q (use %s)", n, RightNames())
		case s.Has(r):
			c.fail("deny", "%q is listed twice", n)
		}
		s |= Rights(r)
	}
	return s
}
