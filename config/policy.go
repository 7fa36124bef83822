package config

import "os"

// Policy is the [policy] table: where the traffic policy is
// (docs/POLICY.md). The policy file itself is read and checked by package
// policy, at start, on SIGHUP and by -check-config.
type Policy struct {
	// File is the policy file, relative to the main config's directory;
	// "" = no policy (every message passes as before).
	File string `toml:"file"`
}

// policy checks that a named policy file exists; its content is policy's.
func (v *validator) policy() {
	if f := v.c.Policy.File; f != "" {
		if _, err := os.Stat(v.resolve(f)); err != nil {
			v.fail("policy.file", "%v", err)
		}
	}
}

// PolicyPath is the policy file to read ("" = none).
func (c *Config) PolicyPath() string {
	if c.Policy.File == "" {
		return ""
	}
	return c.Resolve(c.Policy.File)
}
