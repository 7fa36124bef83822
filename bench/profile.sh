#!/usr/bin/env bash
# profile.sh: where smppd spends its CPU under load. smppd has no pprof
# listener, so this samples it from outside with perf (Debian's
# linux-perf; the cpu-clock software event works in VMs without hardware
# counters, and Go keeps frame pointers, so -g call graphs are whole).
# Starts smppd on the demo config (or a storage variant of it, as
# bench/configs.sh writes them), runs smppbench at 4 sessions x window 100
# without receipts (or the flags given), samples smppd for the measured
# part, prints the hottest functions by self and by inclusive time, and
# stops the server it started, by PID.
#
#   bench/profile.sh [smppbench flags...]   (default: -sessions 4 -window 100)
#   env: SECONDS_MEASURED (4), OUT (a new temporary directory: perf.data),
#        STORE (memory | disk | interval | never: that variant of the demo
#        config on PORT, its data directory fresh; unset: configs/smppd.toml
#        as it is, on its own port), PORT (or PORT_SMPPD; 2785, with
#        STORE only), BIN (bin)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
SECS=${SECONDS_MEASURED:-4}
OUT=${OUT:-$(mktemp -d /tmp/smppd-profile.XXXXXX)}
BIN=${BIN:-bin}
ARGS=("$@")
((${#ARGS[@]})) || ARGS=(-sessions 4 -window 100)
CONFIG=configs/smppd.toml
VARIANT_PORT=${PORT_SMPPD:-${PORT:-2785}}
PORT=2775 # the demo config's own
if [[ -n ${STORE:-} ]]; then
	PORT=$VARIANT_PORT
	bash bench/configs.sh "$OUT/cfg" "$PORT" "$STORE" || exit 1
	CONFIG=$OUT/cfg/$STORE/smppd.toml
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "127.0.0.1:$PORT is already in use by a process we did not start; stop it first" >&2
	exit 1
fi
mkdir -p "$BIN" "$OUT"
go build -o "$BIN/smppd" ./cmd/smppd && go build -o "$BIN/smppbench" ./cmd/smppbench || exit 1

"$BIN/smppd" -config "$CONFIG" >"$OUT/smppd.log" 2>&1 &
SMPPD=$!
BENCH=''
source bench/children.sh
trap stop_children EXIT
wait_smppd "$PORT" "$OUT/smppd.log"

timeout -k 5 $((SECS + 30)) "$BIN/smppbench" -port "$PORT" -user demo -password demopass -duration "$((SECS + 1))s" -warmup 1s \
	"${ARGS[@]}" >"$OUT/bench.txt" 2>&1 &
BENCH=$!
sleep 1.5 # bind and warm up before sampling
perf record -q -e cpu-clock -F 999 -g -p "$SMPPD" -o "$OUT/perf.data" -- sleep "$SECS" 2>/dev/null
wait "$BENCH"
BENCH=''
cat "$OUT/bench.txt"
echo "== self time (perf report --no-children --sort symbol)"
perf report -q -i "$OUT/perf.data" --no-children --sort symbol --percent-limit 1.5 -g none 2>/dev/null | head -40
echo "== inclusive time (perf report --children --sort symbol)"
perf report -q -i "$OUT/perf.data" --children --sort symbol --percent-limit 4 -g none 2>/dev/null | head -50
echo "perf data: $OUT/perf.data"
