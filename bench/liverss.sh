#!/usr/bin/env bash
# liverss.sh: smppd's resident memory per live record with the disk store
# and a short record life. The demo config's disk variant (bench/configs.sh)
# with default_validity 2 s and message_ttl 5 s, so a record lives about
# 7 s; smppbench sends at each fixed rate long enough for the live records
# to level off, and the server's RSS and its live records (the sum of
# smppd_storage_records_by_state) are read then. The slope between two
# rates, ΔRSS ÷ Δlive, is the memory one more live record costs, free of
# what the process holds anyway (buffers, rings, pools).
#
#   bench/liverss.sh            env: RATES ("10000 30000"), SECS (25),
#                               SESSIONS (4, window 100), CDR (off | on),
#                               PORT (2805; admin PORT+6000), BIN (bin: smppd,
#                               smppbench), OUT (a new temporary directory)
# Only the servers it starts are stopped, by PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
RATES=${RATES:-"10000 30000"}
SECS=${SECS:-25}
SESSIONS=${SESSIONS:-4}
CDR=${CDR:-off}
PORT=${PORT:-2805}
ADMIN=$((PORT + 6000))
BIN=${BIN:-bin}
OUT=${OUT:-$(mktemp -d /tmp/smppd-liverss.XXXXXX)}
CDR=$CDR bash bench/configs.sh "$OUT/cfg" "$PORT" disk || exit 1
cfg=$OUT/cfg/disk/smppd.toml
sed -i -e 's/^default_validity = .*/default_validity = "2s"/' -e 's/^message_ttl = .*/message_ttl = "5s"/' "$cfg"
# shellcheck source=bench/lib.sh
. bench/lib.sh # stop: the smppd started here, by its PID
live() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" | awk '/^smppd_storage_records_by_state/ {n += $2} END {print n + 0}'
}
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); default_validity 2s, message_ttl 5s, CDR $CDR, $SESSIONS x 100, $SECS s per rate"
echo "rate/s  live_records  rss_kib  sent/s"
for r in $RATES; do
	rm -rf "$OUT/cfg/disk/var"
	"$BIN/smppd" -config "$cfg" >"$OUT/server.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
	timeout -k 5 $((SECS + 30)) "$BIN/smppbench" -port "$PORT" -sessions "$SESSIONS" -window 100 -rate "$r" -duration "${SECS}s" \
		>"$OUT/bench-$r.txt" 2>&1 &
	b=$!
	sleep $((SECS - 2))
	n=$(live)
	rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
	wait "$b"
	sent=$(awk '/^throughput/ {gsub(",", "", $2); print $2}' "$OUT/bench-$r.txt")
	echo "$r  $n  $rss  $sent"
	stop
done | tee "$OUT/rows.txt"
awk 'NR == 1 {n1 = $2; r1 = $3} END {if ($2 > n1) printf "RSS per live record: %.0f B ((%d - %d) KiB over %d - %d records)\n", ($3 - r1) * 1024 / ($2 - n1), $3, r1, $2, n1}' "$OUT/rows.txt"
