package main

import (
	"fmt"
	"net/url"
	"strconv"
)

var policyGroup = &group{
	name:    "policy",
	summary: "the traffic policy's block and allow lists and its rule table: show, test, edit",
	cmds: append([]*command{
		{
			name: "lists", summary: "the lists in force, their entries and hits (GET /v1/policy/lists)",
			help: "Examples:\n  smppctl policy lists\n  smppctl policy lists --json\n",
			run: func(e *env, _ []string, _ any) error {
				var r struct {
					Lists []struct {
						Name    string `json:"name"`
						Kind    string `json:"kind"`
						Field   string `json:"field"`
						File    string `json:"file"`
						Entries int    `json:"entries"`
						Hits    uint64 `json:"hits"`
					} `json:"lists"`
				}
				raw, err := e.c.get("GET", "/v1/policy/lists", nil, &r)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				rows := [][]string{{"LIST", "KIND", "FIELD", "ENTRIES", "HITS", "FILE"}}
				for _, l := range r.Lists {
					file := l.File
					if file == "" {
						file = "-"
					}
					rows = append(rows, []string{l.Name, l.Kind, l.Field, strconv.Itoa(l.Entries), u64(l.Hits), file})
				}
				return table(e, rows)
			},
		},
		{
			name: "test", args: "LIST NUMBER", nargs: 2, summary: "is NUMBER on LIST (as the list in force sees it)",
			help: "The number as the list sees it: after the policy's normalisation\n(491701234567, not 01701234567, when [[normalise]] applies).\n\nExamples:\n  smppctl policy test premium 4919012345\n",
			run: func(e *env, args []string, _ any) error {
				var r struct {
					Listed bool `json:"listed"`
				}
				raw, err := e.c.get("GET", "/v1/policy/lists/"+url.PathEscape(args[0])+"/test?number="+url.QueryEscape(args[1]), nil, &r)
				if err != nil {
					return err
				}
				if e.json {
					return printJSON(e, raw)
				}
				word := "not on"
				if r.Listed {
					word = "on"
				}
				_, err = fmt.Fprintf(e.out, "%s is %s list %s\n", args[1], word, args[0])
				return err
			},
		},
		{
			name: "add", args: "LIST ENTRY", nargs: 2, summary: "add a number, PREFIX* or sender to LIST's file and reload the policy",
			help: "The list's file is rewritten atomically and the policy loaded again.\nNeeds an operator token.\n\nExamples:\n  smppctl policy add premium '4919*'\n  smppctl policy add spam-senders SpamCo\n",
			run: func(e *env, args []string, _ any) error {
				return editList(e, "POST", "/v1/policy/lists/"+url.PathEscape(args[0])+"/entries", map[string]string{"entry": args[1]}, args)
			},
		},
		{
			name: "remove", args: "LIST ENTRY", nargs: 2, summary: "remove an entry from LIST's file and reload the policy",
			help: "Examples:\n  smppctl policy remove premium '4919*'\n",
			run: func(e *env, args []string, _ any) error {
				return editList(e, "DELETE", "/v1/policy/lists/"+url.PathEscape(args[0])+"/entries/"+url.PathEscape(args[1]), nil, args)
			},
		},
	}, policyRulesCmds...),
}

func editList(e *env, method, path string, body any, args []string) error {
	var r struct {
		Changed bool `json:"changed"`
	}
	raw, err := e.c.get(method, path, body, &r)
	if err != nil {
		return err
	}
	if e.json {
		return printJSON(e, raw)
	}
	switch {
	case !r.Changed && method == "POST":
		_, err = fmt.Fprintf(e.out, "%s was on list %s already\n", args[1], args[0])
	case !r.Changed:
		_, err = fmt.Fprintf(e.out, "%s was not on list %s\n", args[1], args[0])
	case method == "POST":
		_, err = fmt.Fprintf(e.out, "%s added to list %s; policy reloaded\n", args[1], args[0])
	default:
		_, err = fmt.Fprintf(e.out, "%s removed from list %s; policy reloaded\n", args[1], args[0])
	}
	return err
}
