package cdr

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// MaxFind bounds one page of Lookup.Find.
const MaxFind = 1000

// erasePage is how many records an erasure finds per walk of the store.
const erasePage = 4096

// LookupOptions configure a Lookup.
type LookupOptions struct {
	Messages    storage.Messages // required
	UpstreamIDs storage.UpstreamIDs
	Connectors  []string
	// ConnectorName overrides Connectors as Options.ConnectorName does.
	ConnectorName func(id int32) string
	// MaskContent leaves the message text out, as in the CDR lines.
	MaskContent bool
	// Stream is the CDR stream whose lines an erasure removes; nil when
	// CDRs are off (an erasure then covers the store only).
	Stream *Stream
}

// Lookup answers "what happened to message X" and "what did we send to
// this number" from the store, each message as one JSON object in the
// CDR line's shape (docs/CDR.md) without "refunded", and "final" only
// once the message is final. It is the admin API's (and the HTTP API's)
// view of the store; safe for concurrent use, not for the message path.
type Lookup struct {
	opts LookupOptions
	mu   sync.Mutex // enc, rec, up
	enc  encoder
	rec  storage.Record
	up   []byte
}

// NewLookup returns a Lookup over opts.Messages.
func NewLookup(opts LookupOptions) *Lookup {
	return &Lookup{opts: opts, enc: encoder{connectors: opts.Connectors, name: opts.ConnectorName, maskContent: opts.MaskContent}}
}

// Message returns id's object; found is false when the store has no
// record of id, or it is not systemID's ("" = any user's).
func (l *Lookup) Message(id msg.ID, systemID string) (obj []byte, found bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.opts.Messages.Get(id, &l.rec); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	if systemID != "" && l.rec.SystemID != systemID {
		return nil, false, nil
	}
	return l.object(nil, &l.rec), true, nil
}

// Find returns up to limit (1..MaxFind) objects of the messages to number
// ('+' ignored) submitted at or after since (Unix ns, 0 = any), of
// systemID ("" = every user), with ids below before (0 = from the
// newest), newest first; next is the cursor of the following page (0
// when there is none).
func (l *Lookup) Find(number []byte, systemID string, since int64, before msg.ID, limit int) (objs [][]byte, next msg.ID, err error) {
	limit = min(max(limit, 1), MaxFind)
	recs := make([]storage.Record, limit+1) // one more tells whether a next page exists
	q := storage.Query{Addr: number, SystemID: systemID, Since: since, Before: before}
	n, err := l.opts.Messages.Find(&q, recs)
	if err != nil {
		return nil, 0, err
	}
	if n > limit {
		n = limit
		next = recs[n-1].ID
	}
	objs = make([][]byte, n)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range n {
		objs[i] = l.object(nil, &recs[i])
	}
	return objs, next, nil
}

// object appends rec's object to dst. l.mu held.
func (l *Lookup) object(dst []byte, rec *storage.Record) []byte {
	v := view{rec: rec, state: rec.State, err: rec.Err}
	if rec.State.Final() {
		v.done = rec.Done
	}
	if l.opts.UpstreamIDs != nil {
		if up, ok := l.opts.UpstreamIDs.UpstreamOf(rec.ID, l.up[:0]); ok {
			l.up, v.upstreamID = up, up
		}
	}
	return l.enc.appendView(dst, &v)
}

// Erase deletes every record to or from number ('+' ignored) from the
// store, and starts removing its CDR lines (Stream.EraseLines) when CDRs
// are on. It returns how many records went and whether the lines'
// erasure started (false without CDRs).
func (l *Lookup) Erase(number []byte) (records int, lines bool, err error) {
	if len(bytes.TrimPrefix(number, []byte("+"))) == 0 {
		return 0, false, errors.New("cdr: empty number")
	}
	recs := make([]storage.Record, erasePage) // each Find walks the whole store: few, large pages
	q := storage.Query{Addr: number, Fields: storage.MatchDest | storage.MatchSource}
	for {
		n, ferr := l.opts.Messages.Find(&q, recs)
		if ferr != nil {
			return records, false, ferr
		}
		for i := range n {
			if derr := l.opts.Messages.Delete(recs[i].ID); derr != nil && !errors.Is(derr, storage.ErrNotFound) {
				return records, false, derr
			}
			records++
		}
		if n < len(recs) {
			break
		}
		q.Before = recs[n-1].ID
	}
	if l.opts.Stream == nil {
		return records, false, nil
	}
	if err := l.opts.Stream.EraseLines(number); err != nil {
		return records, false, err
	}
	return records, true, nil
}

// EraseStatus returns the latest erasure of CDR lines as a JSON object
// (EraseStatus's fields); nil without CDRs.
func (l *Lookup) EraseStatus() []byte {
	if l.opts.Stream == nil {
		return nil
	}
	b, _ := json.Marshal(l.opts.Stream.EraseStatus())
	return b
}
