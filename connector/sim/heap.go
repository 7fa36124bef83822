package sim

import "github.com/smppd/smppd/msg"

// waiting is a message held back until key: its schedule (plus Latency) or
// its expiry, whichever comes first. The message is Requeued while it
// waits, so cancel_sm and replace_sm can still act on it; at is when the
// worker first took it off the ring.
type waiting struct {
	m   *msg.Message
	key int64
	at  int64
}

// schedHeap is a binary min-heap on key, written out (container/heap would
// box every entry in an interface).
type schedHeap struct{ s []waiting }

func (h *schedHeap) len() int { return len(h.s) }

// top returns the earliest entry. Precondition: len() > 0.
func (h *schedHeap) top() *waiting { return &h.s[0] }

func (h *schedHeap) push(w waiting) {
	h.s = append(h.s, w)
	i := len(h.s) - 1
	for i > 0 {
		p := (i - 1) / 2
		if h.s[p].key <= h.s[i].key {
			break
		}
		h.s[p], h.s[i] = h.s[i], h.s[p]
		i = p
	}
}

// pop removes and returns the earliest entry. Precondition: len() > 0.
func (h *schedHeap) pop() waiting {
	top := h.s[0]
	last := len(h.s) - 1
	h.s[0] = h.s[last]
	h.s[last] = waiting{}
	h.s = h.s[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < last && h.s[l].key < h.s[small].key {
			small = l
		}
		if r := l + 1; r < last && h.s[r].key < h.s[small].key {
			small = r
		}
		if small == i {
			break
		}
		h.s[i], h.s[small] = h.s[small], h.s[i]
		i = small
	}
	return top
}
