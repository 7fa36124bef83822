// Command smppd is the SMPP v3.4 server. It only wires packages together:
// load the config, build the logger, accounts, storage, connectors, routes,
// the flow hub, the engine and the admin listener, then serve until
// SIGTERM/SIGINT (graceful drain) and reload users, groups and routes on
// SIGHUP.
//
//	smppd -config configs/smppd.toml
//	smppd -lock-wait 2m ...     wait up to 2m for the running smppd to release [storage] dir (an upgrade; see reuse_port)
//	smppd -check-config FILE    validate FILE as a start would, print a summary; exit 1 on errors
//	smppd -version              print the version, commit and Go version
//	smppd passwd [password]     print a password_hash for the users file
//	smppd apikey SYSTEM_ID      print a new HTTP API key and its api_key_hash
//	smppd health [URL]          exit 0 when the admin API's /v1/health answers 200 (container HEALTHCHECK)
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/smppd/smppd/accounts"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "apikey" {
		os.Exit(apikey(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "passwd":
			os.Exit(passwd(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
		case "health":
			os.Exit(health(os.Args[2:], os.Stderr))
		}
	}
	fs := flag.NewFlagSet("smppd", flag.ContinueOnError)
	path := fs.String("config", "configs/smppd.toml", "configuration file (TOML)")
	check := fs.String("check-config", "", "validate this configuration file as a start would, print a summary and exit (1 on errors)")
	showVersion := fs.Bool("version", false, "print the version, commit and Go version and exit")
	lockWait := fs.Duration("lock-wait", 0, "wait up to this long for another smppd to release [storage] dir (an upgrade: start the new binary, then SIGTERM the old); with [smpp-server] reuse_port it takes binds meanwhile, else it listens after; 0 refuses at once")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		printVersion(os.Stdout)
		return
	}
	if *check != "" {
		os.Exit(checkConfig(*check, os.Stdout, os.Stderr))
	}
	if *lockWait < 0 || *lockWait > maxLockWait {
		fmt.Fprintf(os.Stderr, "smppd: -lock-wait %v: want 0 to %v\n", *lockWait, maxLockWait)
		os.Exit(2)
	}
	if err := run(*path, *lockWait); err != nil {
		fmt.Fprintln(os.Stderr, "smppd:", err)
		os.Exit(1)
	}
}

// maxLockWait bounds -lock-wait: an old process drains within twice
// shutdown_grace, far below this.
const maxLockWait = time.Hour

// run serves until a stop signal; it returns nil after a graceful stop.
// lockWait is how long to wait for another process's data-directory lock.
func run(path string, lockWait time.Duration) error {
	cfg, warnings, err := loadConfig(path)
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(&cfg.Server)
	if err != nil {
		return err
	}
	defer closeLog()
	for _, w := range warnings {
		log.Warn().Str("event", "config").Msg(w)
	}
	// Signals first: a SIGTERM during start-up must not kill the process
	// before the drain is in place.
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sig)

	d, err := newDaemonWaiting(cfg, log, nil, lockWait)
	if err != nil {
		return err
	}
	if err := d.start(); err != nil {
		return err
	}
	if kib, err := releaseStartPages(); err != nil {
		log.Warn().Str("event", "start_pages").Err(err).Msg("could not release the executable's pages start-up touched (more resident memory, nothing else)")
	} else {
		log.Debug().Str("event", "start_pages_released").Int("kib", kib).Msg("executable's pages start-up touched released")
	}
	for s := range sig {
		if s == syscall.SIGHUP {
			d.reload()
			continue
		}
		log.Info().Str("event", "signal").Str("signal", s.String()).Dur("grace", cfg.Server.ShutdownGrace.D()).
			Msg("stopping: unbinding sessions, draining connectors")
		d.stop()
		return nil
	}
	return nil
}

// passwd prints the password_hash of the password given as argument or
// read from the first line of stdin.
func passwd(args []string, in io.Reader, out, errOut io.Writer) int {
	var pw string
	if len(args) > 0 {
		pw = args[0]
	} else {
		fmt.Fprint(errOut, "password: ")
		if _, err := fmt.Fscanln(in, &pw); err != nil {
			fmt.Fprintln(errOut, "smppd passwd: no password read")
			return 2
		}
	}
	if err := accounts.CheckPassword(pw); err != nil { // the rule the users file and the admin API apply
		fmt.Fprintln(errOut, "smppd passwd: password", err)
		return 2
	}
	h, err := accounts.HashPassword(pw)
	if err != nil {
		fmt.Fprintln(errOut, "smppd passwd:", err)
		return 1
	}
	fmt.Fprintln(out, h)
	return 0
}
