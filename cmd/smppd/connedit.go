package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/smppd/smppd/admin"
	"github.com/smppd/smppd/config"
)

// connectorEdit is the admin API's PUT and DELETE /v1/connectors/{name}
// (admin.ConnectorEditor). The connectors running now, with the change,
// are written as the connectors file (config/connectorsfile.go) and the
// configuration is reloaded with it, as SIGHUP reloads it: the change
// survives a restart, the next SIGHUP keeps it, and edits waiting in the
// config file are applied with it. The file is written only once the
// configuration with the change loads and its routes compile, and before
// anything is applied.
type connectorEdit struct{ d *daemon }

// PutConnector adds connector name or replaces its entry.
func (e connectorEdit) PutConnector(name string, spec admin.ConnectorSpec) (admin.ReloadResult, error) {
	entry := config.DefaultConnector()
	entry.Name, entry.Type, entry.Settings = name, spec.Type, spec.Settings
	if spec.Queue > 0 {
		entry.Queue = spec.Queue
	}
	return e.change(func(cs []config.Connector) ([]config.Connector, error) {
		for i := range cs {
			if cs[i].Name == name {
				cs[i] = entry
				return cs, nil
			}
		}
		return append(cs, entry), nil
	})
}

// DeleteConnector removes connector name: refused while a route names it.
func (e connectorEdit) DeleteConnector(name string) (admin.ReloadResult, error) {
	return e.change(func(cs []config.Connector) ([]config.Connector, error) {
		i := slices.IndexFunc(cs, func(c config.Connector) bool { return c.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%w: %q does not run", admin.ErrConnectorNotFound, name)
		}
		if len(cs) == 1 {
			return nil, fmt.Errorf("%w: %q is the last connector", admin.ErrConnectorRefused, name)
		}
		return slices.Delete(cs, i, i+1), nil
	})
}

func (e connectorEdit) change(edit func([]config.Connector) ([]config.Connector, error)) (admin.ReloadResult, error) {
	d := e.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cfg.Cluster.Enabled {
		return admin.ReloadResult{}, fmt.Errorf("%w: a cluster's connectors change in every node's config and at a restart of every node", admin.ErrConnectorConflict)
	}
	next, err := edit(slices.Clone(d.cfg.Connectors))
	if err != nil {
		return admin.ReloadResult{}, err
	}
	data, err := config.EncodeConnectors(next)
	if err != nil {
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrConnectorRefused, err)
	}
	cfg, err := config.LoadWithConnectors(d.path, data)
	if err == nil {
		_, err = checkConnectors(cfg)
	}
	if err != nil {
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrConnectorRefused, err)
	}
	// The file as it was, put back if the change fails after it was
	// written, so a refused change never reaches the next start.
	before, readErr := os.ReadFile(cfg.ConnectorsPath)
	var saveErr error
	saved := false
	res, err := d.reloadWith(cfg, func() error {
		if saveErr = config.SaveConnectors(cfg.ConnectorsPath, data); saveErr != nil {
			d.log.Error().Str("event", "connectors_saved").Str("file", cfg.ConnectorsPath).Err(saveErr).
				Msg("connectors file not written: the change is not applied")
			return saveErr
		}
		saved = true
		d.log.Info().Str("event", "connectors_saved").Str("file", cfg.ConnectorsPath).
			Msg("connectors file written: it replaces the config's [[connector]] tables from now on")
		return nil
	})
	if err != nil && saved {
		d.restoreConnectorsFile(cfg.ConnectorsPath, before, readErr)
	}
	switch {
	case saveErr != nil:
		return admin.ReloadResult{}, saveErr
	case err != nil:
		return admin.ReloadResult{}, fmt.Errorf("%w: %w", admin.ErrConnectorRefused, err)
	}
	return res, nil
}

// restoreConnectorsFile puts back the connectors file a refused change
// wrote: its former content, or no file when there was none.
func (d *daemon) restoreConnectorsFile(path string, before []byte, readErr error) {
	var err error
	switch {
	case errors.Is(readErr, fs.ErrNotExist):
		err = os.Remove(path)
	case readErr == nil:
		err = config.SaveConnectors(path, before)
	default:
		err = readErr
	}
	if err != nil {
		d.log.Error().Str("event", "connectors_saved").Str("file", path).Err(err).
			Msg("connectors file not restored after a refused change: check it before the next start")
		return
	}
	d.log.Warn().Str("event", "connectors_saved").Str("file", path).
		Msg("connectors file restored: the change was refused")
}
