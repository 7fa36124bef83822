package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/connector"
	"github.com/smppd/smppd/connector/sim"
	"github.com/smppd/smppd/connector/smppout"
)

// kinds are the connector kinds smppd knows. A new kind is one folder
// under connector/ (its Settings, Validate and Build, passing
// connector/connectortest) and one line here.
var kinds = connector.MustRegistry(
	sim.Kind,
	smppout.Kind,
)

// connectorKind reads connector i's settings with its kind: the kind named
// by type, its [connector.<type>] table decoded over the kind's defaults
// and validated. Errors and warnings name the file, line and key.
func connectorKind(cfg *config.Config, i int) (connector.Kind, any, []string, error) {
	cn := &cfg.Connectors[i]
	p := "connector[" + strconv.Itoa(i) + "]."
	k, ok := kinds.Lookup(cn.Type)
	if !ok {
		return k, nil, nil, cfg.ErrorAt(p+"type", fmt.Sprintf("must be %s, got %q", oneOf(kinds.Names()), cn.Type))
	}
	if k.Required && cn.Settings == nil {
		return k, nil, nil, cfg.ErrorAt(p+"type", fmt.Sprintf("type %q needs a [connector.%s] table", k.Name, k.Name))
	}
	s := k.Settings()
	if err := cfg.DecodeSettings(i, s); err != nil {
		return k, nil, nil, err
	}
	chk := connector.Check{Resolve: cfg.Resolve}
	k.Validate(s, &chk)
	p += k.Name + "."
	var errs []error
	for _, pr := range chk.Problems {
		errs = append(errs, cfg.ErrorAt(p+pr.Key, pr.Msg))
	}
	var warns []string
	for _, w := range chk.Warnings {
		warns = append(warns, p+w.Key+": "+w.Msg)
	}
	return k, s, warns, errors.Join(errs...)
}

// checkConnectors reads every connector's settings (connectorKind), as
// the config is loaded: at start and at each reload.
func checkConnectors(cfg *config.Config) ([]string, error) {
	var warns []string
	var errs []error
	for i := range cfg.Connectors {
		_, _, w, err := connectorKind(cfg, i)
		warns = append(warns, w...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return warns, errors.Join(errs...)
}

// loadConfig is config.Load plus the connectors' settings: the file is
// accepted only when every kind accepts its table. The warnings are the
// config's and the kinds'.
func loadConfig(path string) (*config.Config, []string, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	warns, err := checkConnectors(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, append(append([]string(nil), cfg.Warnings...), warns...), nil
}

// oneOf writes names as `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
func oneOf(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
