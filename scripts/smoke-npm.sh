#!/usr/bin/env bash
# Starts smppd as `make run` does (demo config), runs the npm smpp client smoke
# test against it, and stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build
log=$(mktemp)
./bin/smppd -config configs/smppd.toml >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
	if (exec 3<>/dev/tcp/127.0.0.1/2775) 2>/dev/null; then break; fi
	kill -0 "$pid" 2>/dev/null || { echo "smppd exited:"; cat "$log"; exit 1; }
	sleep 0.1
done
if ! node interop/npm/smoke.js 127.0.0.1 2775; then
	echo "--- smppd log"; tail -n 50 "$log"; exit 1
fi
