package proctest

import (
	"bytes"
	"net"
	"os"

	"github.com/BurntSushi/toml"
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

// FreePorts reserves n distinct free loopback ports by listening on them
// together, then releases them for smppd.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
