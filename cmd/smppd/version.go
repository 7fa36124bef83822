package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smppd/smppd/admin"
)

// Stamped at link time by `make build`, `make dist` and the Dockerfile:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=0123abc" ./cmd/smppd
//
// An image build has no .git, so the stamp is the only source there; a
// plain `go build` in a checkout falls back to the VCS data Go embeds.
var (
	version string
	commit  string
)

// buildInfo is what -version, /v1/health and smppd_build_info report.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
	Go      string `json:"go"`
}

// currentBuild returns the stamped version and commit, else what the Go
// toolchain recorded (module version, vcs.revision with a "-dirty" suffix
// for a modified tree), else "dev" and "unknown".
func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		if b.Commit == "" {
			b.Commit = vcsCommit(bi.Settings)
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// vcsCommit is the short revision of the build settings, "-dirty" when
// the tree had uncommitted changes.
func vcsCommit(settings []debug.BuildSetting) string {
	var rev string
	var dirty bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}

// printVersion is `smppd -version`.
func printVersion(w io.Writer) {
	b := currentBuild()
	fmt.Fprintf(w, "smppd %s (commit %s, %s)\n", b.Version, b.Commit, b.Go)
}

// forAdmin is b as GET /v1/health reports it.
func (b buildInfo) forAdmin() admin.BuildInfo {
	return admin.BuildInfo{Version: b.Version, Commit: b.Commit, Go: b.Go}
}

// buildInfoName is the gauge that says which binary a scrape came from.
const buildInfoName = "smppd_build_info"

// register adds smppd_build_info{version,commit,go} 1 to reg.
func (b buildInfo) register(reg prometheus.Registerer) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        buildInfoName,
		Help:        "Always 1; its labels name the running binary's version, commit and Go version.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "go": b.Go},
	})
	g.Set(1)
	return reg.Register(g)
}
