package routing

func isUp(up ConnectorState, id int) bool { return up == nil || up.Up(id) }

// decide chooses the connector of a matched route into d (zero on entry).
// See Kind for each rule.
func (r *MTRoute) decide(up ConnectorState, d *Decision) {
	d.Route, d.Rate, d.Reason = r, r.Rate, ReasonRouted
	n := len(r.Connectors)
	switch r.Kind {
	case KindFailover:
		for i, c := range r.Connectors {
			if isUp(up, c) {
				d.Connector, d.Failover = c, r.Connectors[i+1:]
				return
			}
		}
		d.Connector, d.Failover = r.Connectors[0], r.Connectors[1:]
	case KindRoundRobin:
		start := r.turn(n)
		for i, k := start, 0; k < n; k++ {
			if isUp(up, r.Connectors[i]) {
				r.at(d, i)
				return
			}
			if i++; i == n { // (start + k) % n without a division
				i = 0
			}
		}
		r.at(d, start)
	case KindWeighted:
		seq := r.next.Add(1) - 1
		i := int(r.sched[seq%uint64(len(r.sched))])
		if isUp(up, r.Connectors[i]) {
			r.at(d, i)
			return
		}
		if j, ok := r.weightedAmongUp(up, seq); ok {
			r.at(d, j)
			return
		}
		r.at(d, i)
	default: // KindStatic, KindDefault
		d.Connector = r.Connectors[0]
		if isUp(up, d.Connector) {
			return
		}
	}
	d.AllDown, d.Reason = true, ReasonAllDown
}

// turn is a round-robin route's next starting position: its counter
// counts modulo n itself, so the sequence is that of a free-running counter
// taken modulo n without a 64-bit division per message.
func (r *MTRoute) turn(n int) int {
	for {
		v := r.next.Load()
		w := v + 1
		if w >= uint64(n) {
			w = 0
		}
		if r.next.CompareAndSwap(v, w) {
			return int(min(v, uint64(n-1))) // v < n: only turn writes next
		}
	}
}

// at sets the chosen connector to position i and Failover to the rotation
// after it.
func (r *MTRoute) at(d *Decision, i int) {
	d.Connector = r.Connectors[i]
	d.Failover = r.ring[i+1 : i+len(r.Connectors)]
}

// weightedAmongUp picks a position among the connectors that are up, in
// proportion to their weights, from a hash of the route's sequence number:
// deterministic for a given sequence, spread evenly over many. False when
// none is up.
func (r *MTRoute) weightedAmongUp(up ConnectorState, seq uint64) (int, bool) {
	sum := 0
	for k, c := range r.Connectors {
		if isUp(up, c) {
			sum += r.Weights[k]
		}
	}
	if sum == 0 {
		return 0, false
	}
	x := int(mix64(seq) % uint64(sum))
	last := -1
	for k, c := range r.Connectors {
		if isUp(up, c) { // a connector may change state between the loops
			last = k
			if x -= r.Weights[k]; x < 0 {
				return k, true
			}
		}
	}
	return last, last >= 0
}

// mix64 is the SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijection
// that spreads consecutive counters over the whole 64-bit range.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// smoothSchedule returns one period (sum of weights long) of nginx's smooth
// weighted round robin: each step adds every weight to its connector's
// current value, picks the largest (lowest position on ties) and takes the
// total off it. Over the period each position appears exactly weight times,
// and heavy connectors are interleaved rather than bunched.
func smoothSchedule(weights []int) []uint8 {
	total := 0
	for _, w := range weights {
		total += w
	}
	cur := make([]int, len(weights))
	out := make([]uint8, total)
	for s := range out {
		best := 0
		for i, w := range weights {
			cur[i] += w
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		out[s] = uint8(best)
	}
	return out
}
