package sim

// fifo is a growable ring of values, oldest first, owned by one goroutine.
// It starts small and doubles up to the first power of two >= limit, so the
// steady state allocates nothing; push fails once it holds limit values.
type fifo[T any] struct {
	buf   []T // len is 0 or a power of two
	head  int
	n     int
	limit int
}

func newFIFO[T any](limit, initial int) fifo[T] {
	size := 1
	for size < min(initial, limit) {
		size <<= 1
	}
	return fifo[T]{buf: make([]T, size), limit: limit}
}

// len returns the number of values held.
func (q *fifo[T]) len() int { return q.n }

// full reports whether push would fail.
func (q *fifo[T]) full() bool { return q.n >= q.limit }

// push appends v; false when the fifo holds limit values.
func (q *fifo[T]) push(v T) bool {
	if q.n >= q.limit {
		return false
	}
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
	return true
}

// front returns the oldest value. Precondition: len() > 0. The pointer is
// valid until the next push or pop.
func (q *fifo[T]) front() *T { return &q.buf[q.head] }

// pop removes and returns the oldest value, zeroing its slot so a fifo of
// pointers keeps nothing alive. Precondition: len() > 0.
func (q *fifo[T]) pop() T {
	var zero T
	v := q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

// grow doubles the buffer, moving the values to its start in order.
func (q *fifo[T]) grow() {
	size := max(2*len(q.buf), 16)
	nb := make([]T, size)
	k := copy(nb, q.buf[q.head:])
	copy(nb[k:], q.buf[:q.head])
	q.buf, q.head = nb, 0
}
