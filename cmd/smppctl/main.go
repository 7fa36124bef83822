// Command smppctl operates a running smppd through its admin HTTP API:
// sessions, users, balances, connectors, routes, MO injection and the audit
// log. Run `smppctl --help` for the commands; docs/ADMIN.md describes the
// API.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

const defaultAddr = "http://127.0.0.1:8790"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// globals are the flags every level accepts.
type globals struct {
	addr, token string
	json        bool
}

// register adds the global flags to fs with the current values as
// defaults, so a command's FlagSet keeps what the top level parsed.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.addr, "addr", g.addr, "admin API base URL (env SMPPCTL_ADDR)")
	fs.StringVar(&g.token, "token", g.token, "bearer token: [admin] token or one of [[admin.tokens]], whose scopes decide what it may do (env SMPPCTL_TOKEN, which keeps it out of ps)")
	fs.BoolVar(&g.json, "json", g.json, "print the API's JSON instead of a table")
}

// env is what a command runs with.
type env struct {
	out  io.Writer
	c    *client
	json bool
}

// command is one leaf: `smppctl <group> <name> ...`.
type command struct {
	name    string
	args    string // usage after the command name
	summary string
	help    string // paragraphs and examples
	flags   func(fs *flag.FlagSet) func() any
	nargs   int // positional arguments required
	run     func(e *env, args []string, body any) error
}

// group is `smppctl <group>`; a group with one unnamed command runs it.
type group struct {
	name    string
	summary string
	help    string
	cmds    []*command
}

const topHelp = `smppctl operates a running smppd through its admin HTTP API.

Usage:
  smppctl [--addr URL] [--token TOKEN] [--json] <command> [subcommand] [arguments]

Commands:
%s
Every command takes --addr, --token and --json, before or after its name.
smppctl prints aligned tables by default and the API's JSON with --json.
On failure it prints the server's error code and message on stderr and
exits with status 1 (2 for a usage error).

Run "smppctl <command> --help" for a command's subcommands and examples.

Examples:
  smppctl health
  smppctl sessions list
  smppctl users topup alice 50
  SMPPCTL_ADDR=http://10.0.0.5:8790 SMPPCTL_TOKEN=s3cret smppctl connectors list
`

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	g := globals{addr: getenv("SMPPCTL_ADDR"), token: getenv("SMPPCTL_TOKEN")}
	if g.addr == "" {
		g.addr = defaultAddr
	}
	top := flag.NewFlagSet("smppctl", flag.ContinueOnError)
	top.SetOutput(stderr)
	g.register(top)
	top.Usage = func() { printTop(stdout, top) }
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	rest := top.Args()
	if len(rest) == 0 || rest[0] == "help" {
		printTop(stdout, top)
		if len(rest) == 0 {
			return 2
		}
		return 0
	}
	var grp *group
	for _, gr := range groups {
		if gr.name == rest[0] {
			grp = gr
		}
	}
	if grp == nil {
		fmt.Fprintf(stderr, "smppctl: unknown command %q (see smppctl --help)\n", rest[0])
		return 2
	}
	cmd, cmdArgs, code := pickCommand(grp, rest[1:], stdout, stderr)
	if cmd == nil {
		return code
	}
	fs := flag.NewFlagSet("smppctl "+grp.name+" "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	g.register(fs)
	var body func() any
	if cmd.flags != nil {
		body = cmd.flags(fs)
	}
	fs.Usage = func() { printCommand(stdout, grp, cmd, fs) }
	pos, err := parseInterspersed(fs, cmdArgs)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) != cmd.nargs {
		fmt.Fprintf(stderr, "smppctl %s %s: want %d argument(s): %s\n", grp.name, cmd.name, cmd.nargs, cmd.args)
		return 2
	}
	e := &env{out: stdout, c: newClient(g.addr, g.token), json: g.json}
	var b any
	if body != nil {
		b = body()
	}
	if err := cmd.run(e, pos, b); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "smppctl %s %s: %s\n", grp.name, cmd.name, ue)
			return 2
		}
		fmt.Fprintf(stderr, "smppctl: %v\n", err)
		return 1
	}
	return 0
}

// usageError is a bad argument found after parsing (exit status 2).
type usageError string

func (u usageError) Error() string { return string(u) }

// pickCommand finds the subcommand; it prints help or an error otherwise.
func pickCommand(grp *group, args []string, stdout, stderr io.Writer) (*command, []string, int) {
	if len(grp.cmds) == 1 && grp.cmds[0].name == "" {
		return grp.cmds[0], args, 0
	}
	if len(args) == 0 || isHelp(args[0]) {
		printGroup(stdout, grp)
		if len(args) == 0 {
			return nil, nil, 2
		}
		return nil, nil, 0
	}
	for _, c := range grp.cmds {
		if c.name == args[0] {
			return c, args[1:], 0
		}
	}
	fmt.Fprintf(stderr, "smppctl %s: unknown subcommand %q (see smppctl %s --help)\n", grp.name, args[0], grp.name)
	return nil, nil, 2
}

func isHelp(s string) bool { return s == "help" || s == "-h" || s == "-help" || s == "--help" }

// parseInterspersed parses flags wherever they appear among the
// positional arguments ("users add carol --password x").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func printTop(w io.Writer, fs *flag.FlagSet) {
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "  %-11s %s\n", g.name, g.summary)
	}
	fmt.Fprintf(w, topHelp, b.String())
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func printGroup(w io.Writer, g *group) {
	fmt.Fprintf(w, "smppctl %s: %s\n\n%s\nSubcommands:\n", g.name, g.summary, g.help)
	for _, c := range g.cmds {
		fmt.Fprintf(w, "  %-34s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(w, "\nRun \"smppctl %s <subcommand> --help\" for its flags and examples.\n", g.name)
}

func printCommand(w io.Writer, g *group, c *command, fs *flag.FlagSet) {
	name := strings.TrimSpace("smppctl " + g.name + " " + c.name)
	fmt.Fprintf(w, "%s: %s\n\nUsage:\n  %s %s[flags]\n\n%s\nFlags:\n", name, c.summary, name, spaced(c.args), c.help)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func spaced(s string) string {
	if s == "" {
		return ""
	}
	return s + " "
}
