package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/smppd/smppd/policy"
)

// The policy's lists on the admin API (docs/ADMIN.md): behind the token
// like every endpoint (reads: scope read; changes: operator) and, being
// changes, audited by the admin server before the answer leaves.
//
//	GET    /v1/policy/lists                        the lists, entries and hits
//	GET    /v1/policy/lists/{name}/test?number=N   is N on the list
//	POST   /v1/policy/lists/{name}/entries         {"entry": "4919*"}: add
//	DELETE /v1/policy/lists/{name}/entries/{entry}  remove
//
// A change rewrites the list's file atomically and loads the policy again
// (as SIGHUP does for the policy alone); the answer says whether the file
// changed. In a cluster every node makes the change (policycluster.go).
func (d *daemon) policyAdminRoutes() {
	d.admin.Handle("GET /v1/policy/lists", d.showPolicyLists)
	d.admin.Handle("GET /v1/policy/lists/{name}/test", d.testPolicyList)
	d.admin.Handle("POST /v1/policy/lists/{name}/entries", d.addPolicyEntry)
	d.admin.Handle("DELETE /v1/policy/lists/{name}/entries/{entry}", d.removePolicyEntry)
	d.policyRulesRoutes()
}

func (d *daemon) showPolicyLists(w http.ResponseWriter, _ *http.Request) {
	lists := d.pex.holder.Load().Lists()
	if lists == nil {
		lists = []policy.ListInfo{}
	}
	policyJSON(w, http.StatusOK, map[string]any{"lists": lists})
}

func (d *daemon) testPolicyList(w http.ResponseWriter, r *http.Request) {
	name, number := r.PathValue("name"), r.URL.Query().Get("number")
	if number == "" {
		policyError(w, http.StatusBadRequest, "bad_request", "number= is required")
		return
	}
	on, err := d.pex.holder.Load().TestList(name, []byte(number))
	if err != nil {
		policyFail(w, err)
		return
	}
	policyJSON(w, http.StatusOK, map[string]any{"list": name, "number": number, "listed": on})
}

func (d *daemon) addPolicyEntry(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Entry string `json:"entry"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || body.Entry == "" {
		policyError(w, http.StatusBadRequest, "bad_request", `want {"entry": "<number, prefix* or sender>"}`)
		return
	}
	d.editPolicyList(w, r.PathValue("name"), body.Entry, true)
}

func (d *daemon) removePolicyEntry(w http.ResponseWriter, r *http.Request) {
	d.editPolicyList(w, r.PathValue("name"), r.PathValue("entry"), false)
}

// editPolicyList edits under the daemon's lock, so an edit and a reload
// never interleave, then puts the new file in force. In a cluster the
// edit is shared first (every node applies it to its file); one that
// cannot be shared is not made here either.
func (d *daemon) editPolicyList(w http.ResponseWriter, name, entry string, add bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pex.holder.Load()
	if err := p.CheckListEdit(name, entry); err != nil {
		policyFail(w, err)
		return
	}
	if err := d.pex.shareListEdit(name, entry, add); err != nil {
		policyError(w, http.StatusServiceUnavailable, "not_shared", err.Error())
		return
	}
	changed, err := p.EditList(name, entry, add)
	if err != nil {
		policyFail(w, err)
		return
	}
	if changed {
		if err := d.pex.reloadPolicy(d.cfg, d.log); err != nil {
			policyError(w, http.StatusInternalServerError, "reload_failed", "the list file changed but the policy did not load: "+err.Error())
			return
		}
	}
	policyJSON(w, http.StatusOK, map[string]any{"list": name, "entry": entry, "changed": changed})
}

func policyFail(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, policy.ErrNoList):
		policyError(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, policy.ErrNoListFile):
		policyError(w, http.StatusConflict, "no_file", err.Error())
	default:
		policyError(w, http.StatusBadRequest, "bad_request", err.Error())
	}
}

// policyJSON and policyError answer in the admin API's shapes.
func policyJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func policyError(w http.ResponseWriter, status int, code, message string) {
	var b struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	b.Error.Code, b.Error.Message = code, message
	policyJSON(w, status, &b)
}
