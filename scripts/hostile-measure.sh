#!/usr/bin/env bash
# hostile-measure.sh: the exact figures of the hostile-input cases
# (internal/hostile, the same attacks `make test` runs with loose bounds):
# for each case a fresh smppd on a copy of the demo config with free
# loopback ports, the attack beside a legitimate client submitting 200/s,
# then RSS before/peak/after, the legitimate client's p50/p99/max and
# missed answers, and every check against its target; a Markdown table at
# the end (docs/OPERATIONS.md "Hostile-input figures"). About 70 seconds.
#
#   scripts/hostile-measure.sh [SMPPD_BINARY [CONFIG_DIR]]
#     SMPPD_BINARY  default: ./cmd/smppd built into bin/
#     CONFIG_DIR    holds smppd.toml and users.toml (default: configs);
#                   an older binary needs the configs of its own commit
#   env: CASES       comma-separated subset (prebind-flood, binding-flood,
#                    bound-flood, garbage, slowloris, idle, brute-force,
#                    stuck-receiver, admin)
#        MAX_GROWTH  MiB of VmRSS growth that stops an attack early to spare
#                    the host (default 1024; 0 = never)
#
# Exits 1 when a check fails against its target.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-}
configs=${2:-configs}
tmp=$(mktemp -d /tmp/hostile-measure.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [[ -z $bin ]]; then
	mkdir -p bin
	go build -o bin/ ./cmd/smppd
	bin=bin/smppd
fi
go build -o "$tmp/smpphostile" ./cmd/smpphostile
args=(-smppd "$bin" -configs "$configs" -max-growth "${MAX_GROWTH:-1024}")
if [[ -n ${CASES:-} ]]; then
	args+=(-cases "$CASES")
fi
# Every case bounds itself; the cap only guards against a harness bug.
timeout -k 10 600 "$tmp/smpphostile" "${args[@]}"
