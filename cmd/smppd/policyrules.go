package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/smppd/smppd/cluster"
	"github.com/smppd/smppd/policy"
)

// maxRulesBody is the largest body the rule table's endpoints take: the
// admin server's own bound (its audit keeps no more).
const maxRulesBody = 64 << 10

// rulesBody is a change's JSON body: the [[rule]] tables as TOML text (in
// JSON, so the audit log keeps what changed), and for an added rule its
// index.
type rulesBody struct {
	TOML     string `json:"toml"`
	Position *int   `json:"position"`
}

// The policy's rule table on the admin API (docs/ADMIN.md, docs/POLICY.md
// "Editing the rules"); reads need scope read, changes operator.
//
//	GET    /v1/policy/rules                 the table in force: source, revision, rules, hits, TOML
//	PUT    /v1/policy/rules[?check=true]    {"toml"}: replace it with these [[rule]] tables (check: only validate)
//	POST   /v1/policy/rules                 {"toml", "position"}: add one [[rule]] (default: last)
//	DELETE /v1/policy/rules/{name}          remove one rule
//	GET    /v1/policy/rules/test?dest=...   which rule a message meets, and what it does
//
// A new table is compiled with the policy before anything changes (a bad
// one is refused 400 naming the rule and key, and the old stays), written
// to the rules file atomically, or in a cluster put in the bucket that
// every node watches, then put in force with one swap.
func (d *daemon) policyRulesRoutes() {
	d.admin.Handle("GET /v1/policy/rules", d.showPolicyRules)
	d.admin.Handle("PUT /v1/policy/rules", d.putPolicyRules)
	d.admin.Handle("POST /v1/policy/rules", d.addPolicyRule)
	d.admin.Handle("DELETE /v1/policy/rules/{name}", d.removePolicyRule)
	d.admin.Handle("GET /v1/policy/rules/test", d.testPolicyRules)
}

func (d *daemon) showPolicyRules(w http.ResponseWriter, _ *http.Request) {
	policyJSON(w, http.StatusOK, d.pex.holder.Load().Rules())
}

// readRulesBody reads a JSON body of at most maxRulesBody octets; false
// when it answered already.
func readRulesBody(w http.ResponseWriter, r *http.Request) (rulesBody, bool) {
	var b rulesBody
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxRulesBody+1))
	if err == nil && len(raw) > maxRulesBody {
		policyError(w, http.StatusRequestEntityTooLarge, "too_large", "a body through the API is at most "+strconv.Itoa(maxRulesBody)+" octets (a larger table: the rules file and SIGHUP)")
		return b, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err == nil {
		err = dec.Decode(&b)
	}
	if err != nil {
		policyError(w, http.StatusBadRequest, "bad_request", `want {"toml": "<[[rule]] tables>"}: `+err.Error())
		return b, false
	}
	return b, true
}

func (d *daemon) putPolicyRules(w http.ResponseWriter, r *http.Request) {
	body, ok := readRulesBody(w, r)
	if !ok {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.replaceRules(w, []byte(body.TOML), r.URL.Query().Get("check") == "true", false, "replaced")
}

func (d *daemon) addPolicyRule(w http.ResponseWriter, r *http.Request) {
	body, ok := readRulesBody(w, r)
	if !ok {
		return
	}
	pos := -1
	if body.Position != nil {
		if *body.Position < 0 {
			policyError(w, http.StatusBadRequest, "bad_request", "position: "+strconv.Itoa(*body.Position)+": a rule index from 0")
			return
		}
		pos = *body.Position
	}
	rules, err := policy.ParseRules([]byte(body.TOML))
	if err == nil && len(rules) != 1 {
		err = errors.New("the body holds " + strconv.Itoa(len(rules)) + " [[rule]] tables: want one (PUT replaces the table)")
	}
	if err != nil {
		policyError(w, http.StatusBadRequest, "bad_rules", err.Error())
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	text, err := d.pex.holder.Load().WithRule(rules[0], pos)
	if err != nil {
		policyError(w, http.StatusConflict, "conflict", err.Error())
		return
	}
	d.replaceRules(w, text, false, true, "rule "+strconv.Quote(rules[0].Name)+" added")
}

func (d *daemon) removePolicyRule(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	defer d.mu.Unlock()
	name := r.PathValue("name")
	text, err := d.pex.holder.Load().WithoutRule(name)
	if err != nil {
		policyError(w, http.StatusNotFound, "not_found", "no rule "+strconv.Quote(name))
		return
	}
	d.replaceRules(w, text, false, true, "rule "+strconv.Quote(name)+" removed")
}

// replaceRules puts text in force as the rule table; called with d.mu
// held. The table is compiled alone (400 naming the rule and key), then
// with the policy file (a file that no longer loads: 500, nothing
// changes); check stops there. In a cluster the table is shared first and
// nothing changes here when it cannot be (503); an edit of the table in
// force (over: one rule added or removed) only while the bucket still
// holds the revision it was made from (409 otherwise: another node's edit
// is not dropped). Then the rules file is written and the policy swapped.
func (d *daemon) replaceRules(w http.ResponseWriter, text []byte, check, over bool, what string) {
	x := d.pex
	rules, err := policy.CheckRules(text)
	if err != nil {
		policyError(w, http.StatusBadRequest, "bad_rules", err.Error())
		return
	}
	if d.cfg.PolicyPath() == "" {
		policyError(w, http.StatusConflict, "no_policy", "no [policy] file is configured: the rules live in it")
		return
	}
	if x.rules == nil && x.holder.Load().RulesFile() == "" {
		policyError(w, http.StatusConflict, "no_file", policy.ErrNoRulesFile.Error()+` (add rules_file = "rules.toml" to it)`)
		return
	}
	p, err := x.readPolicyWith(d.cfg, &policy.RuleTable{Text: text, Shared: x.rules != nil})
	if err != nil {
		policyError(w, http.StatusInternalServerError, "reload_failed", "the policy does not load with this table: "+err.Error())
		return
	}
	if check {
		policyJSON(w, http.StatusOK, map[string]any{"valid": true, "rules": len(rules)})
		return
	}
	var rev uint64
	if x.rules != nil {
		rev, err = x.publishRules(text, over)
		if errors.Is(err, cluster.ErrRulesChanged) {
			policyError(w, http.StatusConflict, "conflict", err.Error()+": read the table again (GET /v1/policy/rules) and retry")
			return
		}
		if err != nil {
			policyError(w, http.StatusServiceUnavailable, "not_shared", err.Error())
			return
		}
		x.clusterRules = &policy.RuleTable{Text: text, Revision: rev, Shared: true}
		p.SetRulesRevision(rev)
	}
	if p.RulesFile() != "" {
		if err := p.WriteRulesFile(text); err != nil {
			if x.rules == nil {
				policyError(w, http.StatusInternalServerError, "write_failed", err.Error())
				return
			}
			// Shared already: the cluster's table is the one in force.
			d.log.Error().Str("event", "policy_rules").Uint64("revision", rev).Err(err).
				Msg("policy: the rules file not written; the cluster's rule table is in force all the same")
		}
	}
	x.put(p, d.log)
	d.log.Info().Str("event", "policy_rules").Uint64("revision", rev).Int("rules", len(rules)).
		Str("source", p.Rules().Source).Msg("policy: rule table " + what + " through the admin API")
	policyJSON(w, http.StatusOK, map[string]any{"rules": len(rules), "revision": rev, "source": p.Rules().Source})
}

// testPolicyRules runs the rule table alone on a message given by the
// query: user, group, source, dest, content, data_coding.
func (d *daemon) testPolicyRules(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("dest") == "" {
		policyError(w, http.StatusBadRequest, "bad_request", "dest= is required (user, group, source, content, data_coding optional)")
		return
	}
	m := &policy.Msg{Dir: policy.DirMT, User: q.Get("user"), Group: q.Get("group"), Src: []byte(q.Get("source")),
		Dst: []byte(q.Get("dest")), Content: []byte(q.Get("content")), Now: time.Now()}
	if v := q.Get("data_coding"); v != "" {
		dc, err := strconv.ParseUint(v, 0, 8)
		if err != nil {
			policyError(w, http.StatusBadRequest, "bad_request", "data_coding: "+strconv.Quote(v)+": 0..255")
			return
		}
		m.DataCoding = uint8(dc)
	}
	if len(m.Src) > policy.MaxAddr || len(m.Dst) > policy.MaxAddr {
		policyError(w, http.StatusBadRequest, "bad_request", "source and dest: at most "+strconv.Itoa(policy.MaxAddr)+" octets")
		return
	}
	name, v := d.pex.holder.Load().TryRules(m)
	out := map[string]any{"rule": name, "action": "pass", "source": string(m.Src), "dest": string(m.Dst)}
	if v.Action == policy.Refuse {
		out["action"], out["status"] = "refuse", v.Status.String()
	}
	if m.Changed&policy.ChangedPriority != 0 {
		out["priority"] = m.Priority
	}
	if m.Changed&policy.ChangedDataCoding != 0 {
		out["data_coding"] = m.DataCoding
	}
	if m.Validity > 0 {
		out["validity"] = m.Validity.String()
	}
	if m.Tags != nil {
		out["tags"] = m.Tags
	}
	policyJSON(w, http.StatusOK, out)
}
