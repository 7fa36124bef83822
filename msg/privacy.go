package msg

// MaskAddr appends addr to dst with the middle of its digits hidden, for
// logs under [smpp-server] log_privacy: the first and last quarter of the
// address (at least one character each) stay, every digit between them
// becomes '*'. Letters stay (an alphanumeric sender is a brand, not a
// person), and an address of four characters or fewer (a short code) is
// shown as it is. "+4917012345678" becomes "+49********678".
func MaskAddr(dst, addr []byte) []byte {
	n := len(addr)
	if n <= 4 {
		return append(dst, addr...)
	}
	keep := max(n/4, 1)
	dst = append(dst, addr[:keep]...)
	for _, c := range addr[keep : n-keep] {
		if c >= '0' && c <= '9' {
			c = '*'
		}
		dst = append(dst, c)
	}
	return append(dst, addr[n-keep:]...)
}
