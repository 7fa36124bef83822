package proctest

import (
	"bytes"
	"os"

	"github.com/BurntSushi/toml"

	"github.com/smppd/smppd/internal/freeport"
)

// Table returns the sub-table name of m, creating it when absent.
func Table(m map[string]any, name string) map[string]any {
	if t, ok := m[name].(map[string]any); ok {
		return t
	}
	t := make(map[string]any)
	m[name] = t
	return t
}

// WriteTOML writes v to path as TOML under the comment line header.
func WriteTOML(path, header string, v any) error {
	var b bytes.Buffer
	b.WriteString("# " + header + "\n")
	if err := toml.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, b.Bytes(), 0o600)
}

// FreePorts returns n distinct free loopback ports for smppd's listeners,
// from below the ephemeral range (internal/freeport says why).
func FreePorts(n int) ([]int, error) {
	return freeport.Take(n)
}
