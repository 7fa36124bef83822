package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
)

// secretFlags are the flags of `users callback-secret`.
type secretFlags struct {
	fromFile string
	remove   bool
}

// callbackSecretCmd is `smppctl users callback-secret USER`: a new random
// secret made by smppd (POST /v1/users/{id}/callback-secret), one read
// from a file, or none (PATCH callback_secret).
var callbackSecretCmd = &command{
	name: "callback-secret", args: "USER", nargs: 1,
	summary: "make, set or remove the secret that signs a user's receipt callbacks",
	help: `Without flags smppd makes a new random secret (256 bits, 64 hex digits),
writes it to the users file and prints it once: give it to the customer,
who checks each callback's X-Smppd-Signature with it (docs/HTTP_API.md,
"Signed callbacks"). Callbacks already pending are signed with it from
their next attempt. --from-file sets a secret of your own (16 to 1,024
octets; one final newline is dropped) without putting it on the command
line, where other users of the host could see it. --remove stops signing.
Every change is audited, without the secret.

Examples:
  smppctl users callback-secret alice
  smppctl users callback-secret alice --from-file /run/secrets/alice-dlr
  smppctl users callback-secret alice --remove
`,
	flags: func(fs *flag.FlagSet) func() any {
		from := fs.String("from-file", "", "read the secret from this file instead of making one")
		remove := fs.Bool("remove", false, "remove the secret: receipt callbacks go unsigned")
		return func() any { return secretFlags{fromFile: *from, remove: *remove} }
	},
	run: func(e *env, args []string, body any) error {
		f := body.(secretFlags)
		id := args[0]
		switch {
		case f.remove && f.fromFile != "":
			return usageError("give --from-file or --remove, not both")
		case f.remove:
			return showUser(e, "PATCH", id, "", map[string]string{"callback_secret": ""})
		case f.fromFile != "":
			b, err := os.ReadFile(f.fromFile)
			if err != nil {
				return err
			}
			s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
			return showUser(e, "PATCH", id, "", map[string]string{"callback_secret": s})
		}
		var r struct {
			SystemID       string `json:"system_id"`
			CallbackSecret string `json:"callback_secret"`
		}
		raw, err := e.c.get("POST", "/v1/users/"+url.PathEscape(id)+"/callback-secret", nil, &r)
		if err != nil {
			return err
		}
		if e.json {
			return printJSON(e, raw)
		}
		fmt.Fprintf(e.out, "%s callback_secret: %s\n", r.SystemID, r.CallbackSecret)
		return nil
	},
}

// present shows whether a secret is set, never the secret.
func present(set bool) string {
	if set {
		return "set"
	}
	return "-"
}
