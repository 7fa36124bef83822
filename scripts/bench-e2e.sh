#!/usr/bin/env bash
# Starts smppd on the demo config (as `make run` does), runs smppbench
# against it over loopback (4 sessions x window 100 for 5s, 1 x 1 for 5s,
# then 4 x 100 with receipts for 2s), prints the summaries, and stops the
# server it started, by PID. Every run is capped by `timeout`, so the script
# always ends. The full table is `make bench-matrix`.
set -euo pipefail
cd "$(dirname "$0")/.."
if (exec 3<>/dev/tcp/127.0.0.1/2775) 2>/dev/null; then
	echo "bench-e2e: 127.0.0.1:2775 is already in use (a smppd from make run?); stop it first" >&2
	exit 1
fi
log=$(mktemp)
./bin/smppd -config configs/smppd.toml >"$log" 2>&1 &
pid=$!
stop() {
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$log"
}
trap stop EXIT
for _ in $(seq 1 100); do
	(exec 3<>/dev/tcp/127.0.0.1/2775) 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { echo "smppd exited:"; cat "$log"; exit 1; }
	sleep 0.1
done
bench() { timeout -k 5 60 ./bin/smppbench -host 127.0.0.1 -port 2775 -user demo -password demopass "$@"; }
echo "== smppbench: 4 sessions x window 100, 5s"
bench -sessions 4 -window 100 -duration 5s -warmup 1s
echo "== smppbench: 1 session x window 1, 5s"
bench -sessions 1 -window 1 -duration 5s -warmup 1s
echo "== smppbench: 4 sessions x window 100 with receipts (registered_delivery=1), 2s"
bench -sessions 4 -window 100 -duration 2s -warmup 0.5s -dlr -drain-wait 2s -dlr-wait 5s
