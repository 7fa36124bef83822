package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/rs/zerolog"

	"github.com/smppd/smppd/internal/logthrottle"
	"github.com/smppd/smppd/internal/netguard"
	"github.com/smppd/smppd/storage"
)

// outcome is what one attempt came to.
type outcome uint8

const (
	sent      outcome = iota // a 2xx (with the acknowledgement body when one is asked)
	permanent                // a 4xx other than 408 and 429: never retried
	denied                   // the receiver's address is one Guard refuses: never retried
	retry                    // anything else
)

// maxDrain is how much of a response body is read (and thrown away) so
// the connection can carry the next request; a longer one closes it.
const maxDrain = 64 << 10

// Header values every request carries (read-only slices, shared).
var (
	userAgentHeader = []string{"smppd-webhook/1"}
	formType        = []string{"application/x-www-form-urlencoded"}
)

// attempt sends e once and acts on the outcome (a sender goroutine).
func (s *Service) attempt(e *entry) {
	start := s.now()
	out, why := s.call(e, start)
	end := s.now()
	if s.opts.Latency != nil {
		s.opts.Latency.Observe(end.Sub(start).Seconds())
	}
	k := kindIndex(e.req.Kind)
	switch out {
	case sent:
		s.ack(e, end)
		s.stats.sent[k].Add(1)
		s.release(e)
	case permanent, denied:
		s.ack(e, end)
		s.dead(e, why, end)
		s.stats.permanent[k].Add(1)
		event := "webhook_permanent"
		if out == denied {
			event = "webhook_address_denied"
		}
		if ev := s.event(&s.warn.permanent, end, zerolog.WarnLevel, event); ev != nil {
			s.describe(ev, e).Str("reason", why).Uint64("permanent_total", s.stats.permanent[k].Load()).
				Msg("callback refused for good by its receiver: kept as a dead letter")
		}
		s.release(e)
	default:
		if s.ctx.Err() != nil { // stopping: it stays held for the next start
			s.release(e)
			return
		}
		e.attempts++
		e.due = end.Add(s.backoff(e.attempts)).UnixNano()
		if e.due >= e.expires {
			s.expire(e, why, end)
			return
		}
		s.stats.retried[k].Add(1)
		if ev := s.event(&s.warn.retry, end, zerolog.InfoLevel, "webhook_retry"); ev != nil {
			s.describe(ev, e).Str("reason", why).Int("attempts", e.attempts).Time("next", time.Unix(0, e.due)).
				Msg("callback failed: retried later")
		}
		s.sched.add(e)
	}
}

// backoff is the wait before the next attempt after n failed ones:
// RetryMin doubling up to RetryMax, less up to a fifth at random so the
// callbacks of one outage do not come back in step.
func (s *Service) backoff(n int) time.Duration {
	d := s.opts.RetryMin
	for i := 1; i < n && d < s.opts.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.opts.RetryMax)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// expire ends e past its lifetime: acknowledged, kept as a dead letter.
func (s *Service) expire(e *entry, why string, now time.Time) {
	k := kindIndex(e.req.Kind)
	s.ack(e, now)
	s.dead(e, "expired (hold_lifetime) after the last failure: "+why, now)
	s.stats.expired[k].Add(1)
	if ev := s.event(&s.warn.expired, now, zerolog.WarnLevel, "webhook_expired"); ev != nil {
		s.describe(ev, e).Str("reason", why).Int("attempts", e.attempts).
			Uint64("expired_total", s.stats.expired[k].Load()).
			Msg("callback not delivered within hold_lifetime: kept as a dead letter")
	}
	s.release(e)
}

// call makes one attempt.
func (s *Service) call(e *entry, now time.Time) (outcome, string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.Timeout)
	defer cancel()
	req, err := s.build(ctx, e, now)
	if err != nil {
		return permanent, "request cannot be built: " + err.Error()
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if d := (*netguard.DeniedError)(nil); errors.As(err, &d) {
			return denied, d.Error()
		}
		return retry, transportError(err)
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
		resp.Body.Close()
	}()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		if e.req.AckBody == "" {
			return sent, ""
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(e.req.AckBody))+256))
		if err == nil && string(bytes.TrimSpace(b)) == e.req.AckBody {
			return sent, ""
		}
		return retry, statusText(code) + " without the acknowledgement body"
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		return permanent, statusText(code)
	}
	return retry, statusText(code)
}

// build makes e's HTTP request, signed when its secret is set.
func (s *Service) build(ctx context.Context, e *entry, now time.Time) (*http.Request, error) {
	u := *e.u
	method, payload := http.MethodPost, e.req.Params
	var body io.Reader
	if e.req.Method == storage.CallbackGET {
		method = http.MethodGet
		q, err := mergeQuery(u.RawQuery, e.req.Params)
		if err != nil {
			return nil, err
		}
		u.RawQuery, payload = q, []byte(q)
	} else {
		body = bytes.NewReader(payload)
	}
	// Built from the URL parsed at Enqueue: http.NewRequest would parse
	// it again for every attempt.
	req := (&http.Request{Method: method, URL: &u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: make(http.Header, 4), Host: u.Host}).WithContext(ctx)
	if body != nil {
		req.Body = io.NopCloser(body)
		req.ContentLength = int64(len(payload))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(payload)), nil }
		req.Header["Content-Type"] = formType
	}
	req.Header["User-Agent"] = userAgentHeader
	if s.opts.Secrets != nil && e.req.SecretRef != "" {
		if secret := s.opts.Secrets.Secret(e.req.SecretRef); len(secret) > 0 {
			req.Header.Set(SignatureHeader, Sign(secret, now.Unix(), method, signPath(&u), payload))
		}
	}
	return req, nil
}

// mergeQuery is a GET's query: the URL's own and the parameters, sorted
// by key (url.Values.Encode); the parameters alone when the URL has none.
func mergeQuery(own string, params []byte) (string, error) {
	if own == "" {
		return string(params), nil
	}
	q, err := url.ParseQuery(own)
	if err != nil {
		return "", err
	}
	p, err := url.ParseQuery(string(params))
	if err != nil {
		return "", err
	}
	for k, vs := range p {
		q[k] = append(q[k], vs...)
	}
	return q.Encode(), nil
}

// signPath is the path the signature covers: as sent, "/" when empty.
func signPath(u *url.URL) string {
	if p := u.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// transportError names a failure to get an answer, briefly and without
// the URL (logged on its own, redacted).
func transportError(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "stopping"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// ack acknowledges e's held copy (sent, refused for good, or expired).
func (s *Service) ack(e *entry, now time.Time) {
	if err := s.opts.Holds.Ack(e.key); err != nil {
		s.noteStore(err, "ack", now)
	}
}

// dead keeps e as a dead letter.
func (s *Service) dead(e *entry, reason string, now time.Time) {
	d := storage.DeadLetter{Kind: storage.HeldCallback, Connector: -1, SystemID: e.req.SystemID, ID: e.req.ID,
		Reason: reason, Body: e.body, At: now.UnixNano()}
	if err := s.opts.DeadLetters.Add(&d); err != nil {
		s.noteStore(err, "dead_letter", now)
	}
}

// refuse counts, logs and dead-letters a callback that could not be kept.
func (s *Service) refuse(r *Request, body []byte, reason string, err error, now time.Time) {
	s.stats.refused[kindIndex(r.Kind)].Add(1)
	if ev := s.event(&s.warn.refused, now, zerolog.WarnLevel, "webhook_refused"); ev != nil {
		ev.Str("kind", r.Kind.String()).Str("url", redact(r.URL)).Str("system_id", r.SystemID).Str("reason", reason).
			Err(err).Uint64("refused_total", s.stats.refused[kindIndex(r.Kind)].Load()).
			Msg("callback refused: not kept for sending")
	}
	if body == nil {
		body = r.Params
	}
	d := storage.DeadLetter{Kind: storage.HeldCallback, Connector: -1, SystemID: r.SystemID, ID: r.ID,
		Reason: "refused (" + reason + "): " + err.Error(), Body: body, At: now.UnixNano()}
	if derr := s.opts.DeadLetters.Add(&d); derr != nil && reason != "store" {
		s.noteStore(derr, "dead_letter", now)
	}
}

// noteStore counts and logs a store call that failed.
func (s *Service) noteStore(err error, op string, now time.Time) {
	s.stats.storeErrors.Add(1)
	if ev := s.event(&s.warn.store, now, zerolog.ErrorLevel, "webhook_store_error"); ev != nil {
		ev.Str("op", op).Err(err).Uint64("store_errors_total", s.stats.storeErrors.Load()).
			Msg("callback store operation failed")
	}
}

// describe adds what identifies e to a log line (the URL without its
// user information or query, which may carry credentials).
func (s *Service) describe(ev *zerolog.Event, e *entry) *zerolog.Event {
	ev = ev.Str("kind", e.req.Kind.String()).Str("target", e.t.key).Str("url", redact(e.req.URL))
	if e.req.SystemID != "" {
		ev = ev.Str("system_id", e.req.SystemID)
	}
	if e.req.ID != 0 {
		ev = ev.Stringer("id", e.req.ID)
	}
	return ev
}

// redact is a URL for logs: scheme, host and path only.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// event returns a log event at level named event when the gate lets a
// line through, with how many were suppressed before it.
func (s *Service) event(g *logthrottle.Gate, now time.Time, level zerolog.Level, event string) *zerolog.Event {
	ok, suppressed := g.Allow(now.UnixNano())
	if !ok {
		return nil
	}
	ev := s.log.WithLevel(level)
	if ev == nil {
		return nil
	}
	ev = ev.Str("event", event)
	if suppressed > 0 {
		ev = ev.Uint64("suppressed", suppressed)
	}
	return ev
}
