#!/usr/bin/env bash
# schedtrace.sh: how smppd's goroutines share the Ps under load, from a Go
# execution trace (the admin API's /debug/pprof/trace, pprof on). Starts
# smppd on a storage variant of the demo config (bench/configs.sh), runs
# smppbench at 4 sessions x window 100 without receipts (or the flags
# given), takes a trace of TRACE_SECONDS in the measured part and prints
# bench/schedtrace's report: per role (event loop, CDR writer and syncer,
# connector worker, disk log) the time it ran, its waits for a P by cause,
# its running spells of 1 ms or more (its thread descheduled by the kernel
# while it holds a P), its syscalls, and what held the Ps while an event
# loop waited for one. Stops the server it started, by PID.
#
#   bench/schedtrace.sh [smppbench flags...]
#   env: STORE (memory), CDR (on | off), PORT (2795; admin PORT+6000),
#        TRACE_SECONDS (1.5), BIN (bin: smppd and smppbench are built
#        there unless BUILD=0), OUT (a new temporary directory: the trace,
#        its parsed form, the logs)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
STORE=${STORE:-memory}
PORT=${PORT:-2795}
ADMIN=$((PORT + 6000))
TSECS=${TRACE_SECONDS:-1.5}
BIN=${BIN:-bin}
OUT=${OUT:-$(mktemp -d /tmp/smppd-schedtrace.XXXXXX)}
ARGS=("$@")
((${#ARGS[@]})) || ARGS=(-sessions 4 -window 100)
mkdir -p "$BIN" "$OUT"
BIN=$(cd "$BIN" && pwd)
for p in "$PORT" "$ADMIN"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		echo "127.0.0.1:$p is already in use by a process we did not start; stop it first" >&2
		exit 1
	fi
done
if [[ ${BUILD:-1} != 0 ]]; then
	go build -o "$BIN/smppd" ./cmd/smppd && go build -o "$BIN/smppbench" ./cmd/smppbench || exit 1
fi
go build -o "$OUT/schedtrace" ./bench/schedtrace || exit 1
bash bench/configs.sh "$OUT/cfg" "$PORT" "$STORE" || exit 1
CONFIG=$OUT/cfg/$STORE/smppd.toml
sed -i 's/^pprof = false/pprof = true/' "$CONFIG"

(cd "$(dirname "$CONFIG")" && exec "$BIN/smppd" -config smppd.toml) >"$OUT/smppd.log" 2>&1 &
SMPPD=$!
BENCH=''
source bench/children.sh
trap stop_children EXIT
wait_smppd "$PORT" "$OUT/smppd.log"
timeout 30 "$BIN/smppbench" -port "$PORT" -idle 1 -hold 1ms >/dev/null 2>&1 # the bind's password hash, before

timeout -k 5 60 "$BIN/smppbench" -port "$PORT" -duration 4s -warmup 1s "${ARGS[@]}" >"$OUT/bench.txt" 2>&1 &
BENCH=$!
sleep 2 # bound, warmed up, a second into the measured part
curl -s --max-time 30 -o "$OUT/trace.out" "http://127.0.0.1:$ADMIN/debug/pprof/trace?seconds=$TSECS"
wait "$BENCH"
BENCH=''
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); STORE=$STORE CDR=${CDR:-on} ${ARGS[*]}; $OUT"
grep -E '^(throughput|submit→resp)' "$OUT/bench.txt"
go tool trace -d=parsed "$OUT/trace.out" >"$OUT/trace.parsed" 2>&1 || { echo "go tool trace failed: $(head -c 300 "$OUT/trace.parsed")" >&2; exit 1; }
"$OUT/schedtrace" <"$OUT/trace.parsed"
