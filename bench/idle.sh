#!/usr/bin/env bash
# idle.sh: what N idle bound sessions cost smppd. Starts smppd on
# configs/bench.toml, has `smppbench -idle N` bind N sessions as bench from
# 127.0.0.1 and hold them (answering enquire_link), reads smppd's memory
# (VmRSS, VmHWM from /proc/PID/status) and open descriptors once they are
# all bound, then stops both processes it started, by PID.
#
#   bench/idle.sh [N]            N defaults to 10000
#   env: CONFIG (configs/bench.toml), SETTLE (2: seconds between the last
#        bind and the reading), NOBUILD (1: use bin/ as it is)
#
# Each side needs N descriptors: the script raises its soft RLIMIT_NOFILE
# to the hard limit (the Go runtime does the same in each Go process) and
# refuses to start when the hard limit is too low.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

N=${1:-10000}
CONFIG=${CONFIG:-configs/bench.toml}
SETTLE=${SETTLE:-2}
PORT=$(sed -n 's/^port *= *\([0-9]*\).*/\1/p' "$CONFIG" | head -1)
LOG=$(mktemp -d /tmp/smppd-idle.XXXXXX)

hard=$(ulimit -Hn)
if [[ $hard != unlimited ]] && ((hard < N + 100)); then
	echo "ulimit -Hn is $hard: $N sessions need at least $((N + 100)) descriptors per process (raise it as root: ulimit -Hn $((N + 1000)))" >&2
	exit 1
fi
ulimit -n "$hard"

# PIDs of our children still running; a reaped one is cleared so that a
# recycled PID is never signalled.
SMPPD='' BENCH=''
source bench/children.sh
trap stop_children EXIT
trap 'exit 130' INT TERM

if [[ ${NOBUILD:-0} != 1 ]]; then
	mkdir -p bin
	go build -o bin/smppbench ./cmd/smppbench && CGO_ENABLED=0 go build -o bin/smppd ./cmd/smppd || exit 1 # static, as make build
fi
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
	echo "127.0.0.1:$PORT is already in use by a process we did not start; stop it first" >&2
	exit 1
fi

mib() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$2/status"; }

./bin/smppd -config "$CONFIG" >"$LOG/smppd.log" 2>&1 &
SMPPD=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
	kill -0 "$SMPPD" 2>/dev/null || { echo "smppd exited: $(tail -c 500 "$LOG/smppd.log")" >&2; exit 1; }
	sleep 0.1
done
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg); smppd -config $CONFIG (PID $SMPPD)"
base=$(mib VmRSS "$SMPPD")
echo "smppd before any bind: VmRSS $base MiB"

# The hold is a cap only: the script ends it with SIGTERM once it has read.
./bin/smppbench -port "$PORT" -user bench -password bench -idle "$N" -hold 10m >"$LOG/idle.out" 2>"$LOG/idle.err" &
BENCH=$!
for _ in $(seq 1200); do
	grep -q holding "$LOG/idle.err" && break
	kill -0 "$BENCH" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q holding "$LOG/idle.err"; then
	echo "smppbench did not finish binding: $(tail -c 500 "$LOG/idle.err")" >&2
	exit 1
fi
cat "$LOG/idle.err"
sleep "$SETTLE"
rss=$(mib VmRSS "$SMPPD")
hwm=$(mib VmHWM "$SMPPD")
fds=$(find "/proc/$SMPPD/fd" -mindepth 1 -maxdepth 1 | wc -l)
kill -TERM "$BENCH"
wait "$BENCH"
BENCH=
cat "$LOG/idle.out"
bound=$(sed -n 's/.*idle: \([0-9]*\) bound.*/\1/p' "$LOG/idle.err")
echo "smppd with $bound idle bound sessions: VmRSS $rss MiB, VmHWM $hwm MiB, $fds open descriptors;" \
	"$(awk -v a="$rss" -v b="$base" -v n="$bound" 'BEGIN {printf "%.1f KiB per session over the %s MiB before", (a - b) * 1024 / n, b}')"
grep -E ' (ERR|WRN) ' "$LOG/smppd.log" | head -5
rm -rf "$LOG"
