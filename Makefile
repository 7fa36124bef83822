# smppd build, test and benchmark entry points. See README.md.
GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
CONFIG   ?= configs/smppd.toml
FUZZTIME ?= 10s
# Packages whose tests exercise goroutines: run under the race detector.
RACE_PKGS ?= ./...
# Stamped into the binaries (smppd -version, /v1/health, smppd_build_info).
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: all build run dist image test test-unit test-race smoke hostile hostile-measure crash cluster-test cluster-recovery-test cluster-partition-test cluster-demo fuzz bench bench-e2e bench-matrix bench-idle bench-peers lint crosscheck deps clean

all: build

## build: static binaries (CGO off), as `make dist` and the Dockerfile build:
## no libc mapped beside smppd, 1.4-1.8 MiB less resident (docs/BENCHMARKS.md).
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

## run: check the config as a start would (smppd -check-config), then serve it.
run: build
	./bin/smppd -check-config $(CONFIG)
	./bin/smppd -config $(CONFIG)

## dist: release tarballs for linux/amd64 and linux/arm64 (static, CGO off)
## in dist/, with SHA256SUMS.
dist:
	GO=$(GO) VERSION=$(VERSION) COMMIT=$(COMMIT) bash scripts/dist.sh

## image: the container image, stamped like `make build` (the build context
## has no .git); skipped where no docker daemon answers (make test runs it).
image:
	@if docker info >/dev/null 2>&1; then \
		docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t smppd:$(VERSION) . ; \
	else echo "image: no docker daemon here; skipped (cmd/smppd's TestDockerfileCopies checks the Dockerfile's paths)"; fi

## test: everything CI runs (unit + allocation gates, the hostile-input and
## crash suites, race, golden cross-check, a third-party client against the server
## as `make run` starts it, and the interoperability suite with Kannel,
## Net::SMPP, npm smpp and gosmpp).
test: deps test-unit hostile crash cluster-test cluster-recovery-test cluster-partition-test test-race crosscheck smoke interop image

deps:
	bash scripts/install-deps.sh

# The hostile and crash suites drive a real server and load both cores: they
# run on their own (targets hostile, crash) so they cannot starve the timing
# of other packages' tests.
test-unit:
	$(GO) vet ./...
	$(GO) test -count=1 $$($(GO) list ./... | grep -v -e '/internal/hostile$$' -e '/internal/crash$$' -e '/internal/clustertest$$')

test-race:
	$(GO) test -count=1 -race $(RACE_PKGS)

## hostile: the process-level hostile-input suite (make test runs it once,
## after test-unit and alone; its test files are //go:build !race): a real
## smppd per case under floods, garbage framing, slowloris, 3,000 idle
## connections, password guessing, a receiver that never reads and hostile
## admin requests, with loose liveness bounds. About 75 seconds.
hostile:
	$(GO) test -count=1 -v ./internal/hostile/

## hostile-measure: the same attacks with exact figures against the targets
## (docs/OPERATIONS.md "Hostile-input figures").
hostile-measure:
	bash scripts/hostile-measure.sh

## crash: the process-level crash suite (its test file is //go:build linux
## && !race): smppd on a disk store with sync = "always" is SIGKILLed at
## random moments under load with receipts asked, restarted and rebound,
## through the simulator, then through an upstream SMSC stub that sends
## receipts while smppd is down, with held MO and submit_multi (every
## destination of an acknowledged one accepted upstream); then its store's
## file system fills up (a private tmpfs; skipped where none can be mounted). Checks
## receipts, query_sm and the balance. Prints its seed (CRASH_SEED repeats
## it). About 45 s (make test runs it once, alone, after hostile);
## cmd/smppcrash runs the same cases with flags.
crash:
	$(GO) test -count=1 -v -timeout 10m ./internal/crash/

## cluster-test: the process-level cluster test (issue 19; its test file is
## //go:build linux && !race): three smppd nodes from configs/cluster on free
## loopback ports with embedded JetStream; receipts of submits on node 1 and
## MO injected on node 2 reach a receiver on node 3; node 1 is SIGKILLed under
## load, its transmitters move to node 2, it restarts and rejoins, and every
## acknowledged message's receipt is checked. About a minute.
cluster-test:
	$(GO) test -count=1 -v -timeout 8m -run '^TestCluster$$' ./internal/clustertest/

## cluster-recovery-test: the cluster's recovery cases (internal/clustertest
## TestClusterRecovery, three more nodes with a compaction every 500
## journal batches): a node SIGKILLed after a compaction restarts from the
## base and knows every acknowledged message and the balances; a node
## killed with messages its simulator holds has them sent by its taker,
## every receipt once. About a minute; in make test after cluster-test.
cluster-recovery-test:
	$(GO) test -count=1 -v -timeout 8m -run '^TestClusterRecovery$$' ./internal/clustertest/

## cluster-partition-test: three more nodes whose NATS routes pass through
## proxies in the test (route_advertise); node 3's routes cut twice under
## load (the stream leaders on node 1, then on node 3): it refuses
## ESME_RMSGQFUL while node 1 acknowledges on; healed, node 3 acknowledges
## again and every acknowledged message gets its receipt on receivers bound
## to nodes 1 and 3. About a minute; in make test.
cluster-partition-test:
	$(GO) test -count=1 -v -timeout 8m -run '^TestClusterPartition$$' ./internal/clustertest/

## cluster-demo: the three nodes of configs/cluster (the ports of
## docs/CLUSTER.md, data in configs/cluster/var/nodeN) in the foreground,
## logs prefixed by node; Ctrl-C stops them all.
cluster-demo: build
	bash scripts/cluster-demo.sh

## smoke: the npm smpp client binds, submits, enquires and unbinds against make run's server.
smoke:
	bash scripts/smoke-npm.sh

## fuzz: a short smoke run of every fuzz target (FUZZTIME each).
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## bench: Go micro-benchmarks with allocation counts, then a short end-to-end
## run (smppd on the demo config, smppbench over loopback, receipts included).
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=200ms ./...
	$(MAKE) bench-e2e

bench-e2e: build
	bash scripts/bench-e2e.sh

## bench-matrix: the full table of docs/BENCHMARKS.md (4/16/64 sessions x
## window 100 and 1/4/16/64 x 1, without and with receipts, the raw ceiling
## beside smppd's memory, disk (sync always) and disk (sync interval) stores,
## 3 rounds; about 15 minutes), then 10,000 idle binds on configs/bench.toml,
## then smppd against the npm and Perl peers at 4 x 100 and 1 x 1.
bench-matrix:
	bash bench/matrix.sh
	$(MAKE) bench-idle bench-peers

bench-idle:
	bash bench/idle.sh 10000

bench-peers:
	bash bench/peers/compare.sh -sessions 4 -window 100 -duration 2s -warmup 0.5s
	bash bench/peers/compare.sh -sessions 1 -window 1 -duration 2s -warmup 0.5s

## crosscheck: golden vectors against an independent SMPP implementation.
crosscheck:
	perl scripts/crosscheck-golden.pl codec/testdata/golden

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo 'gofmt: files above need formatting'; exit 1)
	$(GO) vet ./...
	@command -v $(GOBIN)/staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	$(GOBIN)/staticcheck ./...

include interop/Makefile.inc

clean:
	rm -rf bin dist
