package routing

// RouteMT returns the decision of the first MT route whose filters all match
// m, and true; or a Decision carrying ReasonNoMatch or ReasonNoRoutes, and
// false, in which case the caller answers ESME_RINVDSTADR. A matched route
// whose connectors are all down still returns true, with Decision.AllDown.
//
// up may be nil (every connector up). m is read only during the call. Safe
// for concurrent use; allocates nothing.
func (t *Table) RouteMT(m *MT, up ConnectorState) (Decision, bool) {
	var d Decision
	ok := t.RouteMTTo(m, up, &d)
	return d, ok
}

// RouteMTTo is RouteMT writing the decision into d, all of which it sets:
// a Decision returned by value is copied through the stack with wide loads
// that stall on the narrow stores just made (1.3% of smppd's CPU in the
// flow's per-message place).
func (t *Table) RouteMTTo(m *MT, up ConnectorState, d *Decision) bool {
	*d = Decision{}
	if t == nil || len(t.mt) == 0 {
		d.Reason = ReasonNoRoutes
		return false
	}
	// Field by field, not composite literals: those are built in a
	// temporary with 8-octet stores and copied with 16-octet loads, which
	// stall on store forwarding on every message.
	var s subject
	s.user, s.group, s.network, s.tags = m.User, m.Group, m.Network, m.Tags
	s.src, s.dst, s.content, s.dc, s.now = m.Source, m.Dest, m.Content, m.DataCoding, m.Now
	var c candidates
	c.hits, c.open = t.mtPrefix.lookup(m.Dest), t.mtOpen
	for i, ok := c.next(); ok; i, ok = c.next() {
		if r := t.mt[i]; r.filter.match(&s, true) == FieldNone {
			r.decide(up, d)
			return true
		}
	}
	d.Reason = ReasonNoMatch
	return false
}

// RouteMO returns the user of the first MO route whose filters all match m.
// ok is false when no route matches (the caller counts and logs the MO as
// unroutable). m is read only during the call. Safe for concurrent use;
// allocates nothing.
func (t *Table) RouteMO(m *MO) (user string, route *MORoute, ok bool) {
	if t == nil {
		return "", nil, false
	}
	s := subject{conn: m.Connector, src: m.Source, dst: m.Dest, content: m.Content, dc: m.DataCoding, now: m.Now}
	c := candidates{t.moPrefix.lookup(m.Dest), t.moOpen}
	for i, ok := c.next(); ok; i, ok = c.next() {
		if r := t.mo[i]; r.filter.match(&s, true) == FieldNone {
			return r.User, r, true
		}
	}
	return "", nil, false
}

// candidates yields, in increasing order, the routes that can still match:
// those whose dest_prefixes the destination passed (hits, from the trie) and
// those without dest_prefixes (open). Both lists are sorted and disjoint, so
// routes whose prefixes miss are never looked at.
type candidates struct{ hits, open []int32 }

func (c *candidates) next() (int, bool) {
	var i int32
	switch {
	case len(c.hits) > 0 && (len(c.open) == 0 || c.hits[0] < c.open[0]):
		i, c.hits = c.hits[0], c.hits[1:]
	case len(c.open) > 0:
		i, c.open = c.open[0], c.open[1:]
	default:
		return 0, false
	}
	return int(i), true
}

// prefixHit reports whether route i is in hits, the sorted route indices of
// the prefix trie walk (Explain's full scan). Routes are asked in increasing order, so the cursor j
// only moves forward.
func prefixHit(hits []int32, j *int, i int) bool {
	k := *j
	for k < len(hits) && int(hits[k]) < i {
		k++
	}
	*j = k
	return k < len(hits) && int(hits[k]) == i
}

// Verdict is one route's result in an explanation.
type Verdict struct {
	Route  string // route name
	Index  int    // route position
	Failed Field  // first filter that rejected the message; FieldNone = matched
}

// ExplainMT lists, for troubleshooting, each MT route tried for m up to and
// including the first that matches, with the filter that rejected each one.
// It runs the same checks as RouteMT but chooses no connector (round-robin
// counters do not move). Cold path: it allocates the result.
func (t *Table) ExplainMT(m *MT) []Verdict {
	if t == nil {
		return nil
	}
	s := subject{user: m.User, group: m.Group, network: m.Network, tags: m.Tags, src: m.Source, dst: m.Dest, content: m.Content, dc: m.DataCoding, now: m.Now}
	hits := t.mtPrefix.lookup(m.Dest)
	j := 0
	var out []Verdict
	for i, r := range t.mt {
		f := r.filter.match(&s, prefixHit(hits, &j, i))
		out = append(out, Verdict{Route: r.Name, Index: i, Failed: f})
		if f == FieldNone {
			break
		}
	}
	return out
}

// ExplainMO is ExplainMT for MO routes.
func (t *Table) ExplainMO(m *MO) []Verdict {
	if t == nil {
		return nil
	}
	s := subject{conn: m.Connector, src: m.Source, dst: m.Dest, content: m.Content, dc: m.DataCoding, now: m.Now}
	hits := t.moPrefix.lookup(m.Dest)
	j := 0
	var out []Verdict
	for i, r := range t.mo {
		f := r.filter.match(&s, prefixHit(hits, &j, i))
		out = append(out, Verdict{Route: r.Name, Index: i, Failed: f})
		if f == FieldNone {
			break
		}
	}
	return out
}
