#!/usr/bin/env bash
# Starts smppd on the demo config, runs smppbench against it over loopback
# (4 sessions x window 100 for 5s, then 1 x 1), prints the summaries, and
# stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
./bin/smppd -config configs/smppd.toml >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
	(exec 3<>/dev/tcp/127.0.0.1/2775) 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { echo "smppd exited:"; cat "$log"; exit 1; }
	sleep 0.1
done
echo "== smppbench: 4 sessions x window 100, 5s"
./bin/smppbench -host 127.0.0.1 -port 2775 -user demo -password demopass -sessions 4 -window 100 -duration 5s -warmup 1s
echo "== smppbench: 1 session x window 1, 5s"
./bin/smppbench -host 127.0.0.1 -port 2775 -user demo -password demopass -sessions 1 -window 1 -duration 5s -warmup 1s
