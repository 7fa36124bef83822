package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/smppd/smppd/cdr"
	"github.com/smppd/smppd/config"
	"github.com/smppd/smppd/msg"
	"github.com/smppd/smppd/storage"
)

// openCDR opens the CDR stream of [cdr] (nil when it is off or has no
// directory): it reads the records of store. A directory another smppd
// holds, or one that cannot be created, stops the start. names names the
// routing ids (connIDs.name).
func openCDR(cfg *config.Config, store storage.Store, names func(int32) string, log zerolog.Logger) (*cdr.Stream, error) {
	c := &cfg.CDR
	if !c.Active {
		return nil, nil
	}
	s, err := cdr.Open(cdr.Options{
		Dir: c.Dir, MaxFileSize: int64(c.MaxFileSize), MaxFileAge: c.MaxFileAge.D(), Retention: c.Retention.D(),
		QueueSize: c.QueueSize, HighWater: c.QueueHighWater, ReadyGrace: c.ReadyGrace.D(), MaskContent: c.MaskContent, Messages: store, UpstreamIDs: store,
		ConnectorName: names, Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("[cdr] dir %s: %w", c.Dir, err)
	}
	return s, nil
}

// finalsOf is the hub's and the delivery side's hook for s: nil (no
// hook) without a stream, not a nil *cdr.Stream in an interface.
func finalsOf(s *cdr.Stream) interface{ Final(msg.Final) } {
	if s == nil {
		return nil
	}
	return s
}

// backlogOf is the hub's admission flag for s (flow.Options.Backlog):
// nil without a stream.
func backlogOf(s *cdr.Stream) *atomic.Bool {
	if s == nil {
		return nil
	}
	return s.Backlog()
}

// cdrReady is the CDR stream's half of GET /v1/ready at now: not ready
// once new MT has been refused for [cdr] ready_grace because the writer
// is behind (shorter backlogs are refused MT, but no reason to eject the
// node).
func cdrReady(s *cdr.Stream, now time.Time) error {
	if s == nil {
		return nil
	}
	lasted, ok := s.BacklogLasting(now)
	if !ok {
		return nil
	}
	st := s.Stats()
	return fmt.Errorf("cdr: the writer is behind (%d final states queued, past queue_high_water, for %v); MT is refused ESME_RTHROTTLED",
		st.Queue, lasted.Round(time.Millisecond))
}

// messageLookup is the admin API's view of the store (GET /v1/messages,
// the erasure of a number), in the CDR lines' shape.
func messageLookup(cfg *config.Config, store storage.Store, s *cdr.Stream, names func(int32) string) *cdr.Lookup {
	return cdr.NewLookup(cdr.LookupOptions{Messages: store, UpstreamIDs: store, ConnectorName: names,
		MaskContent: cfg.CDR.MaskContent, Stream: s})
}

// registerCDR exports the stream's counters (docs/CONFIG.md, [cdr]).
func registerCDR(reg prometheus.Registerer, s *cdr.Stream) error {
	if s == nil {
		return nil
	}
	counters := []struct {
		name, help string
		get        func(cdr.Stats) float64
	}{
		{"smppd_cdr_written_total", "CDR lines written.", func(st cdr.Stats) float64 { return float64(st.Written) }},
		{"smppd_cdr_dropped_total", "Final states that got no CDR line because the writer's queue was full.", func(st cdr.Stats) float64 { return float64(st.Dropped) }},
		{"smppd_cdr_write_errors_total", "CDR file creates, writes, syncs, closes and removals that failed.", func(st cdr.Stats) float64 { return float64(st.WriteErrors) }},
		{"smppd_cdr_missing_total", "CDR lines written without their record (erased or gone before the writer read it).", func(st cdr.Stats) float64 { return float64(st.Missing) }},
		{"smppd_cdr_rotations_total", "CDR files closed by size or age.", func(st cdr.Stats) float64 { return float64(st.Rotations) }},
		{"smppd_cdr_removed_total", "CDR files removed past their retention.", func(st cdr.Stats) float64 { return float64(st.Removed) }},
		{"smppd_cdr_backlogs_total", "Times the CDR queue passed queue_high_water (new MT refused ESME_RTHROTTLED, reason cdr_backlog, until the writer caught up).", func(st cdr.Stats) float64 { return float64(st.Backlogs) }},
		{"smppd_cdr_erased_lines_total", "CDR lines removed by erasures of a number.", func(st cdr.Stats) float64 { return float64(st.Erased) }},
	}
	for _, c := range counters {
		get := c.get
		if err := reg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: c.name, Help: c.help},
			func() float64 { return get(s.Stats()) })); err != nil {
			return err
		}
	}
	gauges := []struct {
		name, help string
		get        func(cdr.Stats) float64
	}{
		{"smppd_cdr_files", "Closed CDR files kept.", func(st cdr.Stats) float64 { return float64(st.Files) }},
		{"smppd_cdr_bytes", "Bytes of the CDR files, the one being written included.", func(st cdr.Stats) float64 { return float64(st.Bytes) }},
		{"smppd_cdr_queue", "Final states waiting for the CDR writer.", func(st cdr.Stats) float64 { return float64(st.Queue) }},
		{"smppd_cdr_backlog", "1 while the CDR queue is past queue_high_water and new MT is refused ESME_RTHROTTLED.", func(st cdr.Stats) float64 {
			if st.Backlog {
				return 1
			}
			return 0
		}},
	}
	for _, g := range gauges {
		get := g.get
		if err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: g.name, Help: g.help},
			func() float64 { return get(s.Stats()) })); err != nil {
			return err
		}
	}
	return nil
}

// closeCDR writes what is queued and closes the stream: after the hub and
// the delivery side stopped (nothing reports any more), before the store
// closes (the writer reads records).
func (d *daemon) closeCDR() {
	if d.cdr == nil {
		return
	}
	if err := d.cdr.Close(); err != nil {
		d.log.Error().Str("event", "shutdown").Err(err).Msg("closing the CDR stream")
	}
	d.cdr = nil
}
