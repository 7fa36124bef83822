package httpapi

import (
	"net/http"
	"strconv"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/flow"
	"github.com/smppd/smppd/httpapi/content"
)

// Jasmin's endpoints: /send, /balance, /rate and /ping, with Jasmin's
// parameters, statuses and bodies.

// readParams gathers a Jasmin request's parameters: the query string, and
// for a POST a form or JSON body (any other Content-Type is 415, a body
// above max_body 413). HTTP basic auth stands in for missing username and
// password parameters. ok false: the answer is written.
func (s *Server) readParams(w http.ResponseWriter, r *http.Request, p *params, jsonAnswer bool) bool {
	if err := p.fromQuery(r.URL.RawQuery); err != nil {
		s.stats.bad.Add(1)
		s.jasminFail(w, badRequest("The query string is malformed."), jsonAnswer)
		return false
	}
	if r.Method == http.MethodPost {
		kind, ok := kindOf(r)
		if !ok {
			s.stats.ctype.Add(1)
			s.jasminFail(w, &failure{jasmin: http.StatusUnsupportedMediaType,
				reason: "Content-Type must be application/x-www-form-urlencoded or application/json"}, jsonAnswer)
			return false
		}
		body, err := readBody(w, r, s.o.MaxBody)
		switch {
		case err == errTooLarge:
			s.stats.large.Add(1)
			s.jasminFail(w, &failure{jasmin: http.StatusRequestEntityTooLarge,
				reason: "The body is larger than max_body (" + strconv.FormatInt(s.o.MaxBody, 10) + " octets)"}, jsonAnswer)
			return false
		case err != nil:
			s.stats.bad.Add(1)
			s.jasminFail(w, badRequest("The body could not be read."), jsonAnswer)
			return false
		}
		switch kind {
		case bodyForm:
			if err := p.fromQuery(string(body)); err != nil {
				s.stats.bad.Add(1)
				s.jasminFail(w, badRequest("The form body is malformed."), jsonAnswer)
				return false
			}
		case bodyJSON:
			if f := p.fromJSON(body); f != nil {
				s.stats.bad.Add(1)
				s.jasminFail(w, f, jsonAnswer)
				return false
			}
		}
		// The credentials may be kept (the login cache, the failed-login
		// limiter): not as views pinning a body of up to max_body.
		p.own(pUsername)
		p.own(pPassword)
	}
	if user, pw, ok := r.BasicAuth(); ok {
		if !p.given(pUsername) {
			p.set(pUsername, user)
			if !p.given(pPassword) {
				p.set(pPassword, pw)
			}
		}
	}
	return true
}

// jasminFail answers a failure as /send does (text/plain), or as /balance
// and /rate do (a JSON string).
func (s *Server) jasminFail(w http.ResponseWriter, f *failure, jsonAnswer bool) {
	if jsonAnswer {
		jasminJSON(w, f.jasmin, f.reason)
		return
	}
	jasminError(w, f.jasmin, f.reason)
}

// login authenticates a Jasmin request by its username and password.
func (s *Server) login(w http.ResponseWriter, r *http.Request, p *params, jsonAnswer bool) (*accounts.User, bool) {
	name := p.value(pUsername)
	u, err := s.loginPassword(r, name, p.value(pPassword))
	if err != nil {
		s.jasminFail(w, authFailure(err, name), jsonAnswer)
		return nil, false
	}
	return u, true
}

// send is /send: one message (split into parts when long), answered
// `Success "<id>"` once it is queued (and durable, with a durable store).
func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	o1 := getOne()
	defer o1.release()
	p := &o1.p
	if !s.readParams(w, r, p, false) {
		return
	}
	p.sendDefaults()
	if f := p.check(sendFields); f != nil {
		s.stats.bad.Add(1)
		jasminError(w, f.jasmin, f.reason)
		return
	}
	u, ok := s.login(w, r, p, false)
	if !ok {
		return
	}
	if f := s.build(u, p, &o1.m, now); f != nil {
		s.stats.refused.Add(1)
		jasminError(w, f.jasmin, f.reason)
		return
	}
	hold := holdPool.Get().(*flow.DirectHold)
	answered := false
	defer func() { s.release(w, hold, answered) }() // before o1's release: the defers run last first
	o := s.submit(u, o1, hold, now)
	if o.fail != nil {
		if o.fail.jasmin == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		}
		jasminError(w, o.fail.jasmin, o.fail.reason)
		return
	}
	if err := s.o.Hub.WaitDurable(o.written); err != nil {
		s.warn("commit", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
		jasminError(w, http.StatusServiceUnavailable, "The message store failed to write the message: retry later")
		return
	}
	jasminSuccess(w, o.id, &o1.ans)
	answered = true
}

// balance is /balance: {"balance": <units, or "ND" when unlimited>,
// "sms_count": <quota parts left, or "ND">}, as Jasmin answers.
func (s *Server) balance(w http.ResponseWriter, r *http.Request) {
	p := &params{}
	if !s.readParams(w, r, p, true) {
		return
	}
	if f := p.check(balanceFields); f != nil {
		s.stats.bad.Add(1)
		jasminJSON(w, f.jasmin, f.reason)
		return
	}
	u, ok := s.login(w, r, p, true)
	if !ok {
		return
	}
	if !u.May(accounts.RightHTTPBalance) {
		jasminJSON(w, http.StatusBadRequest, notAuthorized(u, "Cannot check balance").reason)
		return
	}
	out := struct {
		Balance  any `json:"balance"`
		SMSCount any `json:"sms_count"`
	}{"ND", "ND"}
	if b := u.Limits.Credit().Balance(); !b.IsUnlimited() {
		out.Balance = jsonAmount(b)
	}
	if left, limited := u.Limits.QuotaCounter().Left(); limited {
		out.SMSCount = left
	}
	jasminJSON(w, http.StatusOK, out)
}

// rate is /rate: the route's price per part and how many parts the content
// takes, {"unit_rate": ..., "submit_sm_count": ...}.
func (s *Server) rate(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	p := &params{}
	if !s.readParams(w, r, p, true) {
		return
	}
	if !p.given(pCoding) {
		p.set(pCoding, "0")
	}
	hasHex := p.given(pHexContent)
	if !p.given(pContent) && !hasHex {
		p.set(pContent, "")
	}
	if f := p.check(rateFields); f != nil {
		s.stats.bad.Add(1)
		jasminJSON(w, f.jasmin, f.reason)
		return
	}
	if p.given(pContent) && hasHex {
		jasminJSON(w, http.StatusBadRequest, "content and hex-content cannot be used both in same request.")
		return
	}
	u, ok := s.login(w, r, p, true)
	if !ok {
		return
	}
	if !u.May(accounts.RightHTTPRate) {
		jasminJSON(w, http.StatusBadRequest, notAuthorized(u, "Cannot check rate").reason)
		return
	}
	coding, _ := strconv.Atoi(p.value(pCoding))
	var payload []byte
	if hasHex {
		b, err := decodeHex(p.value(pHexContent))
		if err != nil {
			jasminJSON(w, http.StatusBadRequest, "Invalid hex-content data: '"+clip(p.value(pHexContent))+"'")
			return
		}
		payload = b
	} else {
		payload, _ = content.Encode(nil, byte(coding), p.value(pContent))
	}
	n, err := content.Count(payload, byte(coding))
	if err != nil {
		jasminJSON(w, http.StatusBadRequest, "The content cannot be cut into SMS parts.")
		return
	}
	sm := codec.SM{DestinationAddr: []byte(p.value(pTo)), SourceAddr: []byte(p.value(pFrom)),
		DataCoding: byte(coding), ShortMessage: payload}
	q, ok := s.o.Hub.Quote(u, &sm, now)
	if !ok {
		jasminJSON(w, http.StatusPreconditionFailed, "No route found")
		return
	}
	jasminJSON(w, http.StatusOK, struct {
		UnitRate      jsonNumber `json:"unit_rate"`
		SubmitSMCount int        `json:"submit_sm_count"`
	}{jsonNumber(strconv.FormatFloat(q.Rate, 'f', -1, 64)), n})
}

// ping is /ping: Jasmin's liveness answer.
func (s *Server) ping(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("Jasmin/PONG"))
}
