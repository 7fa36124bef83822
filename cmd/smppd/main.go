// Command smppd is the SMPP v3.4 server. It only wires packages together:
// load the config, build the logger, the accounts store and the engine,
// then serve until SIGTERM/SIGINT (graceful stop) and reload users on SIGHUP.
//
//	smppd -config configs/smppd.toml
//	smppd passwd [password]     print a password_hash for the users file
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/smppd/smppd/accounts"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/engine"
	"github.com/smppd/smppd/msg"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "passwd" {
		os.Exit(passwd(os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
	fs := flag.NewFlagSet("smppd", flag.ContinueOnError)
	path := fs.String("config", "configs/smppd.toml", "configuration file (TOML)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if err := run(*path); err != nil {
		fmt.Fprintln(os.Stderr, "smppd:", err)
		os.Exit(1)
	}
}

// run serves until a stop signal; it returns nil after a graceful stop.
func run(path string) error {
	cfg, err := config.Load(path)
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(&cfg.Server)
	if err != nil {
		return err
	}
	defer closeLog()
	for _, w := range cfg.Warnings {
		log.Warn().Str("event", "config").Msg(w)
	}
	users, err := accountUsers(cfg.Users)
	if err != nil {
		return err
	}
	store, err := accounts.NewStore(users, storeOptions(cfg))
	if err != nil {
		return err
	}
	ids, err := msg.NewIDGen(cfg.Server.NodeID)
	if err != nil {
		return err
	}
	opts, err := engineOptions(cfg, store, ids)
	if err != nil {
		return err
	}
	opts.Logger = log
	srv, err := engine.New(opts)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		return err
	}
	log.Info().Str("event", "start").Str("config", path).Int("users", len(users)).Msg("smppd running")

	sig := make(chan os.Signal, 4)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for s := range sig {
		if s == syscall.SIGHUP {
			reload(path, store, log)
			continue
		}
		log.Info().Str("event", "signal").Str("signal", s.String()).Dur("grace", cfg.Server.ShutdownGrace.D()).
			Msg("stopping: unbinding sessions")
		ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownGrace.D())
		err := srv.Shutdown(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			log.Error().Err(err).Msg("shutdown")
		}
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
	if pw == "" || len(pw) > 8 {
		fmt.Fprintln(errOut, "smppd passwd: an SMPP password is 1 to 8 characters (SMPP 3.4 §4.1.1)")
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
