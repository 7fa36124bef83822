package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The rule table's commands, in the policy group (/v1/policy/rules).
var policyRulesCmds = []*command{
	{
		name: "rules", summary: "the rule table in force: its source, revision and rules with their hits",
		help: "--toml prints the table's TOML text (what rules-set takes).\n\nExamples:\n  smppctl policy rules\n  smppctl policy rules --toml > rules.toml\n",
		flags: func(fs *flag.FlagSet) func() any {
			asTOML := fs.Bool("toml", false, "print the table's TOML text")
			return func() any { return *asTOML }
		},
		run: func(e *env, _ []string, b any) error {
			var r struct {
				Source   string `json:"source"`
				File     string `json:"file"`
				Revision uint64 `json:"revision"`
				Rules    []struct {
					Name string `json:"name"`
					Hits uint64 `json:"hits"`
				} `json:"rules"`
				TOML string `json:"toml"`
			}
			raw, err := e.c.get("GET", "/v1/policy/rules", nil, &r)
			if err != nil {
				return err
			}
			switch {
			case e.json:
				return printJSON(e, raw)
			case b.(bool):
				_, err = fmt.Fprint(e.out, r.TOML)
				return err
			}
			from := r.Source
			if r.File != "" {
				from += " " + r.File
			}
			if r.Revision != 0 {
				from += ", revision " + strconv.FormatUint(r.Revision, 10)
			}
			if _, err := fmt.Fprintf(e.out, "source: %s\n", from); err != nil {
				return err
			}
			rows := [][]string{{"#", "RULE", "HITS"}}
			for i, rl := range r.Rules {
				rows = append(rows, []string{strconv.Itoa(i), rl.Name, u64(rl.Hits)})
			}
			return table(e, rows)
		},
	},
	{
		name: "rules-set", args: "FILE", nargs: 1, summary: "replace the rule table by FILE's [[rule]] tables",
		help: "The table is compiled before anything changes: a bad one is refused naming\nthe rule and key, and the table in force stays. It is then written to the\npolicy's rules_file (or, in a cluster, shared with every node) and put in\nforce. Needs an operator token.\n\nExamples:\n  smppctl policy rules --toml > rules.toml; $EDITOR rules.toml\n  smppctl policy rules-set rules.toml\n",
		run: func(e *env, args []string, _ any) error {
			return putRules(e, args[0], false)
		},
	},
	{
		name: "rules-check", args: "FILE", nargs: 1, summary: "check FILE's [[rule]] tables as rules-set would, changing nothing",
		help: "Examples:\n  smppctl policy rules-check rules.toml\n",
		run: func(e *env, args []string, _ any) error {
			return putRules(e, args[0], true)
		},
	},
	{
		name: "rules-add", args: "FILE", nargs: 1, summary: "add FILE's one [[rule]] to the table (last, or at --position)",
		help: "The table in force is rewritten with the rule in it (comments of the\nrules file are not kept). Needs an operator token.\n\nExamples:\n  smppctl policy rules-add vip.toml --position 0\n",
		flags: func(fs *flag.FlagSet) func() any {
			pos := fs.Int("position", -1, "the rule's index from 0 (default: last)")
			return func() any { return *pos }
		},
		run: func(e *env, args []string, b any) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			body := map[string]any{"toml": string(data)}
			if pos := b.(int); pos >= 0 {
				body["position"] = pos
			}
			return rulesAnswer(e, "POST", "/v1/policy/rules", body, "rule added")
		},
	},
	{
		name: "rules-remove", args: "NAME", nargs: 1, summary: "remove the rule called NAME",
		help: "Examples:\n  smppctl policy rules-remove vip\n",
		run: func(e *env, args []string, _ any) error {
			return rulesAnswer(e, "DELETE", "/v1/policy/rules/"+url.PathEscape(args[0]), nil, "rule "+args[0]+" removed")
		},
	},
	{
		name: "rules-test", args: "DEST", nargs: 1, summary: "which rule a message to DEST meets, and what it does",
		help: "The rule table alone, as a message meets it after the sender levels,\nnormalisation and lists (give the number as they leave it).\n\nExamples:\n  smppctl policy rules-test 491701234567 --user alice --source MyShop\n",
		flags: func(fs *flag.FlagSet) func() any {
			q := map[string]*string{}
			for _, k := range []string{"user", "group", "source", "content", "data_coding"} {
				q[k] = fs.String(k, "", "the message's "+k)
			}
			return func() any {
				v := url.Values{}
				for k, p := range q {
					if *p != "" {
						v.Set(k, *p)
					}
				}
				return v
			}
		},
		run: func(e *env, args []string, b any) error {
			v := b.(url.Values)
			v.Set("dest", args[0])
			var r map[string]any
			raw, err := e.c.get("GET", "/v1/policy/rules/test?"+v.Encode(), nil, &r)
			if err != nil {
				return err
			}
			if e.json {
				return printJSON(e, raw)
			}
			if r["rule"] == "" {
				_, err = fmt.Fprintln(e.out, "no rule applies")
				return err
			}
			var parts []string
			for _, k := range []string{"action", "status", "source", "dest", "priority", "data_coding", "validity", "tags"} {
				if x, ok := r[k]; ok {
					parts = append(parts, fmt.Sprintf("%s=%v", k, x))
				}
			}
			_, err = fmt.Fprintf(e.out, "rule %v: %s\n", r["rule"], strings.Join(parts, " "))
			return err
		},
	},
}

func putRules(e *env, file string, check bool) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	path, what := "/v1/policy/rules", "rule table replaced"
	if check {
		path, what = path+"?check=true", "rule table valid"
	}
	return rulesAnswer(e, "PUT", path, map[string]string{"toml": string(data)}, what)
}

func rulesAnswer(e *env, method, path string, body any, what string) error {
	var r struct {
		Rules    int    `json:"rules"`
		Revision uint64 `json:"revision"`
		Source   string `json:"source"`
	}
	raw, err := e.c.get(method, path, body, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	msg := fmt.Sprintf("%s: %d rules", what, r.Rules)
	if r.Revision != 0 {
		msg += ", cluster revision " + strconv.FormatUint(r.Revision, 10)
	}
	_, err = fmt.Fprintln(e.out, msg)
	return err
}
