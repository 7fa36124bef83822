#!/usr/bin/env bash
# A/B: two smppd builds side by side on their own demo configs, the same
# load generator, interleaved rounds, medians (a shared 2-core box makes a
# single absolute figure noise; ratios of one run are what count).
#
#   bash bench/ab.sh DIR_A DIR_B [ROUNDS]
#
# DIR_x holds bin/smppd and configs/smppd.toml (a worktree of a commit, built
# with `go build -o DIR/bin/ ./cmd/smppd ./cmd/smppbench`). smppbench comes
# from DIR_B. Cells: 4 x 100 and 1 x 1, 3 s each after 1 s of warm-up.
# Every run is capped by timeout; each server is stopped by its PID.
set -euo pipefail
a=$1 b=$2 rounds=${3:-3}
bench=$b/bin/smppbench
port_free() { ! (exec 3<>/dev/tcp/127.0.0.1/2775) 2>/dev/null; }
port_free || { echo "ab: 127.0.0.1:2775 is in use; stop that server first" >&2; exit 1; }
run() { # dir sessions window -> "rate p99"
	local dir=$1 log pid out
	log=$(mktemp)
	(cd "$dir" && exec ./bin/smppd -config configs/smppd.toml) >"$log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do ! port_free && break; sleep 0.1; done
	out=$(timeout -k 5 60 "$bench" -host 127.0.0.1 -port 2775 -user demo -password demopass \
		-sessions "$2" -window "$3" -duration 3s -warmup 1s 2>&1 || true)
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "$log"
	for _ in $(seq 100); do port_free && break; sleep 0.1; done
	awk '/^throughput/ {gsub(",", "", $2); r=$2} /^submit→resp/ {for (i=1;i<=NF;i++) if ($i=="p99") p=$(i+1) $(i+2)} END {print r+0, "p99=" p}' <<<"$out"
}
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
for cell in "4 100" "1 1"; do
	ra=() rb=()
	for r in $(seq "$rounds"); do
		ra+=("$(run "$a" $cell)")
		rb+=("$(run "$b" $cell)")
		echo "round $r, $cell: A ${ra[-1]}  B ${rb[-1]}"
	done
	ma=$(printf '%s\n' "${ra[@]}" | awk '{print $1}' | median)
	mb=$(printf '%s\n' "${rb[@]}" | awk '{print $1}' | median)
	echo "== ${cell/ / x }: median submit_sm/s A $ma  B $mb  B/A $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", (a>0)?b/a:0}')"
done
