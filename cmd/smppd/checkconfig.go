package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/policy"
)

// checkConfig is `smppd -check-config FILE`: everything a start reads and
// checks before it listens (the config and its users file with their
// secret references and TLS files, every connector's settings, the routes,
// the users as the accounts store takes them, the data directory and the
// log file), without binding a port, opening the store or writing a file.
// It prints a summary and the warnings to out and returns 0, or prints
// every error found to errOut, one "file:line: key: why" per line, and
// returns 1.
func checkConfig(path string, out, errOut io.Writer) int {
	cfg, errs := config.Load(path)
	var problems []error
	var warns []string
	if errs != nil {
		problems = append(problems, leaves(errs)...)
	} else {
		warns = append(warns, cfg.Warnings...)
		problems, warns = checkLoaded(cfg, problems, warns)
	}
	if len(problems) > 0 {
		for _, e := range problems {
			fmt.Fprintln(errOut, e)
		}
		for _, w := range warns {
			fmt.Fprintln(errOut, "warning:", w)
		}
		fmt.Fprintf(errOut, "smppd: %s: %d error(s); smppd would not start with it\n", path, len(problems))
		return 1
	}
	summarize(cfg, out)
	for _, w := range warns {
		fmt.Fprintln(out, "warning:", w)
	}
	fmt.Fprintf(out, "%s: OK\n", path)
	return 0
}

// checkLoaded runs what a start does after config.Load: every step runs,
// so one pass reports every error.
func checkLoaded(cfg *config.Config, problems []error, warns []string) ([]error, []string) {
	kw, err := checkConnectors(cfg)
	warns = append(warns, kw...)
	problems = append(problems, leaves(err)...)
	if err == nil { // routes name connectors a broken kind may not have
		if _, err := compileRoutes(cfg, nil); err != nil {
			problems = append(problems, leaves(err)...)
		}
	}
	if path := cfg.PolicyPath(); path != "" { // compiled as a start compiles it
		if _, err := policy.Load(path, policy.Options{}); err != nil {
			problems = append(problems, err)
		}
	}
	if au, err := accountUsers(cfg.Users); err != nil {
		problems = append(problems, err)
	} else if _, err := accounts.NewStore(au, accountGroups(cfg.Groups), storeOptions(cfg)); err != nil {
		problems = append(problems, err)
	}
	if _, err := engineOptions(cfg, nil); err != nil {
		problems = append(problems, err)
	}
	sw, err := cfg.ProbeStorageDir()
	warns = append(warns, sw...)
	if err != nil {
		problems = append(problems, err)
	}
	if err := probeLogFile(cfg); err != nil {
		problems = append(problems, err)
	}
	warns = append(warns, exposure(cfg)...)
	if cfg.UsersPath != "" {
		if err := writableDir(filepath.Dir(cfg.UsersPath)); err != nil {
			warns = append(warns, fmt.Sprintf("users file %s: its directory is not writable (%v): run-time user changes and balances cannot be saved", cfg.UsersPath, err))
		}
	}
	return problems, warns
}

// leaves flattens joined errors, so each config.Error prints on its line.
func leaves(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, leaves(e)...)
		}
		return out
	}
	return []error{err}
}

// probeLogFile checks that log_file could be opened for appending, as
// newLogger does at start, without creating it.
func probeLogFile(cfg *config.Config) error {
	f := cfg.Server.LogFile
	switch f {
	case "", "stderr", "stdout":
		return nil
	}
	fail := func(err error) error { return cfg.ErrorAt("smpp-server.log_file", err.Error()) }
	fi, err := os.Stat(f)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if err := writableDir(filepath.Dir(f)); err != nil {
			return fail(fmt.Errorf("cannot create %s: %w", f, err))
		}
		return nil
	case err != nil:
		return fail(err)
	case fi.IsDir():
		return fail(fmt.Errorf("%s is a directory", f))
	}
	if err := syscall.Access(f, 0x2); err != nil { // W_OK
		return fail(fmt.Errorf("cannot append to %s: %w", f, err))
	}
	return nil
}

// writableDir reports whether files can be created in dir.
func writableDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return syscall.Access(dir, 0x2|0x1) // W_OK|X_OK
}

// exposure warns about listeners reachable from other hosts that an
// operator should have chosen on purpose.
func exposure(cfg *config.Config) []string {
	var w []string
	a := &cfg.Admin
	if ip, err := netip.ParseAddr(a.Bind); a.Enabled && err == nil && !ip.IsLoopback() {
		auth := "a bearer token"
		if a.Token == "" {
			auth = "no token (allow_insecure)"
		}
		w = append(w, fmt.Sprintf("admin API on a public address (%s): user, balance and route changes reachable from other hosts, with %s; keep it on a management network",
			net.JoinHostPort(a.Bind, strconv.Itoa(a.Port)), auth))
	}
	return w
}

// summarize prints what a start with cfg would serve.
func summarize(cfg *config.Config, out io.Writer) {
	s := &cfg.Server
	listeners := []string{"smpp " + net.JoinHostPort(s.Bind, strconv.Itoa(s.Port))}
	if s.TLS.Enabled {
		l := "smpp-tls " + tlsAddr(cfg) + " (" + s.TLS.CertExpiry()
		if s.TLS.ClientAuth != config.ClientAuthNone {
			l += ", client certificates: " + s.TLS.ClientAuth
		}
		listeners = append(listeners, l+")")
	}
	if cfg.Admin.Enabled {
		listeners = append(listeners, "admin "+net.JoinHostPort(cfg.Admin.Bind, strconv.Itoa(cfg.Admin.Port)))
	}
	fmt.Fprintln(out, "listeners:", strings.Join(listeners, ", "))
	from := "no users file"
	if cfg.UsersPath != "" {
		from = strconv.Itoa(len(cfg.Users)-cfg.InlineUsers) + " from " + cfg.UsersPath
	}
	certs := 0
	for _, u := range cfg.Users {
		if u.Account.Auth != accounts.AuthPassword {
			certs++
		}
	}
	fmt.Fprintf(out, "users: %d (%s; %d by client certificate), groups: %d\n", len(cfg.Users), from, certs, len(cfg.Groups))
	conns := make([]string, len(cfg.Connectors))
	for i, c := range cfg.Connectors {
		conns[i] = c.Name + " (" + c.Type + ")"
	}
	fmt.Fprintf(out, "connectors: %d: %s\n", len(conns), strings.Join(conns, ", "))
	fmt.Fprintf(out, "routes: %d mt, %d mo\n", len(cfg.MTRoutes), len(cfg.MORoutes))
	st := &cfg.Storage
	if st.Disk() {
		fmt.Fprintf(out, "storage: disk %s (sync %s)\n", st.Dir, st.Sync)
	} else {
		fmt.Fprintln(out, "storage: memory (a restart loses messages, receipts and held items)")
	}
}
