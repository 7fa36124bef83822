package httpapi

import (
	"errors"
	"net/http"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/codec"
	"github.com/smppd/smppd/flow"
)

// failure is a refused request or message, with what each API answers:
// Jasmin's /send status and reason, and the JSON API's status, code and the
// SMPP status the same refusal answers over SMPP (0: none, a request error).
type failure struct {
	jasmin int
	json   int
	code   string
	reason string
	smpp   codec.Status
	hasSM  bool
}

func (f *failure) apiError() *apiError {
	e := &apiError{Code: f.code, Message: f.reason}
	if f.hasSM {
		e.SMPPStatus, e.SMPPStatusCode = f.smpp.String(), uint32(f.smpp)
	}
	return e
}

// badRequest is an argument error: 400 on both APIs.
func badRequest(reason string) *failure {
	return &failure{jasmin: http.StatusBadRequest, json: http.StatusBadRequest, code: "invalid_request", reason: reason}
}

// authFailure is a login that failed: Jasmin answers 403 for every cause
// (its message names the username only); the JSON API answers 401 for bad
// credentials, 429 while the failed-login limiter blocks the address, 403
// for a disabled user or an address outside allow_ips.
func authFailure(err error, username string) *failure {
	f := &failure{jasmin: http.StatusForbidden, reason: "Authentication failure for username:" + clip(username)}
	switch {
	case errors.Is(err, accounts.ErrThrottled):
		f.json, f.code = http.StatusTooManyRequests, "auth_throttled"
		f.reason += " (too many failed logins from this address: try later)"
	case errors.Is(err, accounts.ErrDisabled):
		f.json, f.code = http.StatusForbidden, "user_disabled"
	case errors.Is(err, accounts.ErrIPNotAllowed):
		f.json, f.code = http.StatusForbidden, "address_not_allowed"
	default:
		f.json, f.code = http.StatusUnauthorized, "unauthorized"
	}
	return f
}

// notAuthorized is a right the user lacks (Jasmin's CredentialValidator):
// 400 on /send as in Jasmin, 403 on the JSON API.
func notAuthorized(u *accounts.User, what string) *failure {
	return &failure{jasmin: http.StatusBadRequest, json: http.StatusForbidden, code: "forbidden",
		reason: "Authorization failed for user [" + u.SystemID + "] (" + what + ")."}
}

// refusal is what the hub refused a message for: Jasmin's statuses on
// /send (400 for a value the user may not use, 403 for throughput, balance
// and quota, 412 without a route), the JSON API's (400 invalid, 403 not
// permitted, 402 no balance or quota, 422 no route, 429 throttled, 503 full),
// with the SMPP status the refusal answers over SMPP.
func refusal(r flow.Refusal, st codec.Status, u *accounts.User) *failure {
	f := &failure{smpp: st, hasSM: true}
	filter := func(what string) {
		f.jasmin, f.json, f.code = http.StatusBadRequest, http.StatusForbidden, "forbidden"
		f.reason = "Value filter failed for user [" + u.SystemID + "] (" + what + ")."
	}
	switch r {
	case flow.RefuseReceipts:
		f.jasmin, f.json, f.code = http.StatusBadRequest, http.StatusForbidden, "forbidden"
		f.reason = "Authorization failed for user [" + u.SystemID + "] (Setting dlr level not authorized)."
	case flow.RefuseSource:
		filter("source_address filter mismatch")
	case flow.RefusePriority:
		filter("priority filter mismatch")
	case flow.RefuseLimits:
		filter("validity_period filter mismatch")
	case flow.RefuseDest:
		f.jasmin, f.json, f.code, f.reason = http.StatusBadRequest, http.StatusBadRequest, "invalid_request", "Destination address is empty."
	case flow.RefuseValidity:
		f.jasmin, f.json, f.code, f.reason = http.StatusBadRequest, http.StatusBadRequest, "invalid_request", "Validity period is in the past."
	case flow.RefuseSchedule:
		f.jasmin, f.json, f.code, f.reason = http.StatusBadRequest, http.StatusBadRequest, "invalid_request",
			"Schedule delivery time is not a valid SMPP time or comes after the validity period."
	case flow.RefuseMessage, flow.RefuseDistList:
		f.jasmin, f.json, f.code, f.reason = http.StatusBadRequest, http.StatusBadRequest, "invalid_request", "The message is malformed."
	case flow.RefuseNoRoute:
		f.jasmin, f.json, f.code, f.reason = http.StatusPreconditionFailed, http.StatusUnprocessableEntity, "no_route", "No route found"
	case flow.RefuseThrottled:
		f.jasmin, f.json, f.code, f.reason = http.StatusForbidden, http.StatusTooManyRequests, "throttled", "User throughput exceeded"
	case flow.RefuseBalance:
		f.jasmin, f.json, f.code, f.reason = http.StatusForbidden, http.StatusPaymentRequired, "no_balance",
			"Cannot charge submit_sm: not enough balance or quota"
	case flow.RefuseDisabled:
		f.jasmin, f.json, f.code, f.reason = http.StatusForbidden, http.StatusForbidden, "user_disabled", "User is disabled"
	case flow.RefuseQueueFull:
		f.jasmin, f.json, f.code, f.reason = http.StatusServiceUnavailable, http.StatusServiceUnavailable, "queue_full",
			"The connector's queue is full: retry later"
	case flow.RefuseStorage:
		f.jasmin, f.json, f.code, f.reason = http.StatusServiceUnavailable, http.StatusServiceUnavailable, "store_full",
			"The message store cannot take the message now: retry later"
	case flow.RefuseBacklog:
		f.jasmin, f.json, f.code, f.reason = http.StatusServiceUnavailable, http.StatusServiceUnavailable, "cdr_backlog",
			"Billing records are behind: retry later"
	case flow.RefuseReceiptBacklog:
		f.jasmin, f.json, f.code, f.reason = http.StatusServiceUnavailable, http.StatusServiceUnavailable, "receipt_backlog",
			"Your receivers are behind on their receipts: retry later"
	default:
		f.jasmin, f.json, f.code, f.reason = http.StatusInternalServerError, http.StatusInternalServerError, "internal", "Internal error"
	}
	return f
}

// internal is a failure of ours (a store that failed): 500, or 503 with
// Retry-After when retrying may work.
func internal(reason string, retry bool) *failure {
	if retry {
		return &failure{jasmin: http.StatusServiceUnavailable, json: http.StatusServiceUnavailable, code: "unavailable", reason: reason}
	}
	return &failure{jasmin: http.StatusInternalServerError, json: http.StatusInternalServerError, code: "internal", reason: reason}
}
