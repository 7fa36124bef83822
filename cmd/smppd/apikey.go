package main

import (
	"fmt"
	"io"

	"github.com/smppd/smppd/accounts"
)

// apikey prints a fresh HTTP API key for the system_id given and the
// api_key_hash line for its [[user]] table. The key is shown only here:
// smppd keeps its hash.
func apikey(args []string, out, errOut io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(errOut, "usage: smppd apikey SYSTEM_ID")
		return 2
	}
	key, hash, err := accounts.NewAPIKey(args[0])
	if err != nil {
		fmt.Fprintln(errOut, "smppd apikey:", err)
		return 2
	}
	fmt.Fprintln(out, "key: "+key)
	fmt.Fprintf(out, "api_key_hash = %q\n", hash)
	return 0
}
