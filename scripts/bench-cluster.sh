#!/usr/bin/env bash
# The three-node cluster (configs/cluster, embedded JetStream R3, sync =
# "always") beside one node on the disk store (configs/smppd.toml), in the
# same run on this machine: smppbench 4 sessions x window 100, receipts
# off, against cluster node 1 and the single node in interleaved rounds
# (ROUNDS, default 3; DURATION, default 5s). Copies of the configs run in a
# temporary directory with every port moved up by 10000, so neither the
# demo's ports nor its data are touched. For each cluster round it prints
# node 1's JetStream publishes per acknowledged submit_sm (from
# smppd_cluster_journal_batches_total) and the writes per publish. Every
# process it starts is stopped by PID; every run is capped by timeout.
# Needs bin/smppd and bin/smppbench (make build; SMPPD and SMPPBENCH override).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
smppd=${SMPPD:-bin/smppd}
smppbench=${SMPPBENCH:-bin/smppbench}
duration=${DURATION:-5s}
tmp=$(mktemp -d)
pids=()
stop() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap stop EXIT
shift_ports() { # file: every port of the example configs + 10000
	local f=$1
	for p in 2775 2785 2795 3550 3560 3570 8790 8791 8792 1401 1402 1403 4222 4223 4224 6222 6223 6224; do
		sed -i "s/\b$p\b/$((p + 10000))/g" "$f"
	done
}
mkdir -p "$tmp/cluster" "$tmp/single"
cp configs/cluster/node1.toml configs/cluster/node2.toml configs/cluster/node3.toml configs/cluster/users.toml "$tmp/cluster/"
cp configs/smppd.toml configs/users.toml "$tmp/single/"
for f in "$tmp"/cluster/node*.toml; do shift_ports "$f"; done
shift_ports "$tmp/single/smppd.toml"
# The single node beside the cluster: its own SMPP, admin and HTTP ports.
sed -i 's/\b12775\b/12805/; s/\b18790\b/18793/; s/\b11401\b/11404/' "$tmp/single/smppd.toml"
sed -i 's/^enabled = true \( *# the demo exposes it\)/enabled = false\1/' "$tmp/single/smppd.toml" # admin and HTTP API off
for n in 1 2 3; do
	"$smppd" -config "$tmp/cluster/node$n.toml" >"$tmp/node$n.log" 2>&1 &
	pids+=("$!")
done
"$smppd" -config "$tmp/single/smppd.toml" >"$tmp/single.log" 2>&1 &
pids+=("$!")
wait_port() {
	for _ in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench-cluster: nothing listens on $1; logs in $tmp" >&2
	tail -20 "$tmp"/*.log >&2
	return 1
}
for p in 12775 12785 12795 12805; do wait_port "$p"; done
metric() { # admin port, metric name
	curl -s "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { printf "%d\n", $2 }'
}
bench() { # port
	timeout -k 5 120 "$smppbench" -host 127.0.0.1 -port "$1" -user demo -password demopass \
		-sessions 4 -window 100 -duration "$duration" -warmup 1s -json
}
field() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["submit_per_s"], r["submit_resp"]["p99_us"], r["ok"], r["errors"]+r["throttled"])'; }
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
printf '%-6s %-22s %12s %10s %10s %8s %12s %14s\n' round setup submit_sm/s p99_ms ok refused js_ops/msg writes/js_op
for r in $(seq "$rounds"); do
	b0=$(metric 18790 smppd_cluster_journal_batches_total)
	e0=$(metric 18790 smppd_cluster_journal_entries_total)
	read -r rate p99 ok bad < <(bench 12775 | field)
	b1=$(metric 18790 smppd_cluster_journal_batches_total)
	e1=$(metric 18790 smppd_cluster_journal_entries_total)
	awk -v r="$r" -v rate="$rate" -v p99="$p99" -v ok="$ok" -v bad="$bad" -v b=$((b1 - b0)) -v e=$((e1 - e0)) \
		'BEGIN { printf "%-6s %-22s %12.0f %10.1f %10d %8d %12.4f %14.1f\n", r, "cluster R3 (node 1)", rate, p99/1000, ok, bad, b/ok, e/b }'
	read -r rate p99 ok bad < <(bench 12805 | field)
	awk -v r="$r" -v rate="$rate" -v p99="$p99" -v ok="$ok" -v bad="$bad" \
		'BEGIN { printf "%-6s %-22s %12.0f %10.1f %10d %8d %12s %14s\n", r, "one node, disk store", rate, p99/1000, ok, bad, "-", "-" }'
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
