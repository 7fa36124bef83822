package admin

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// callbackSecretOctets is the size of a secret the API makes: 256 bits,
// written as 64 hex digits (accounts takes 16 to 1,024 octets).
const callbackSecretOctets = 32

// rotateCallbackSecret is POST /v1/users/{id}/callback-secret: a new
// random callback_secret for the user's signed receipt callbacks, applied
// through the users file's rules as a PATCH is (and saved to it), and
// answered once; nothing shows it again (the audit entry keeps it
// redacted). Callbacks already pending are signed with it from their next
// attempt. To set a secret of one's own, or remove it, PATCH the user's
// callback_secret.
func (s *Server) rotateCallbackSecret(w http.ResponseWriter, r *http.Request) {
	st := s.store(w)
	if st == nil {
		return
	}
	id := r.PathValue("id")
	u, ok := st.Lookup(id)
	if !ok {
		writeError(w, http.StatusNotFound, "not_found", "no user "+id)
		return
	}
	var raw [callbackSecretOctets]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read does not fail
	secret := hex.EncodeToString(raw[:])
	spec := u.Spec()
	nu, _, msg := parseInput(st, &spec, &userInput{CallbackSecret: &secret}, false)
	if msg != "" {
		writeError(w, http.StatusUnprocessableEntity, "invalid", msg)
		return
	}
	if !s.storeError(w, st.Upsert(nu)) {
		return
	}
	s.opts.Logger.Info().Str("event", "callback_secret_rotated").Str("system_id", id).
		Bool("replaced", u.CallbackSecret != "").Msg("operator set a new callback_secret")
	writeJSON(w, http.StatusOK, map[string]any{"system_id": id, "callback_secret": secret})
}
