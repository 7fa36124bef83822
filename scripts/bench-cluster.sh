#!/usr/bin/env bash
# Issue 19's matrix in one run on this machine: smppbench 4 sessions x
# window 100, receipts off, in interleaved rounds against
#   disk  one node on the disk store (configs/smppd.toml, sync = "always")
#   r1    the same config with [cluster] on: a one-node embedded JetStream,
#         replicas = 1
#   r3    the three nodes of configs/cluster (embedded JetStream R3,
#         sync = "always"), traffic on node 1
# Per round and setup: submit_sm/s, p50/p99 submit->resp, the setup's
# server CPU per accepted message (utime + stime from /proc, summed over
# its nodes: each smppd embeds its JetStream server), JetStream publishes
# per message (smppd_cluster_journal_batches_total summed over the nodes)
# journal writes per publish and journal bytes per message before and after
# compression (smppd_cluster_journal_bytes_total, _published_bytes_total;
# 0 from a build without them). The summary gives each setup's medians,
# the ratios to the disk node, the journal's cost per message (r1 - disk)
# and replication's (r3 - r1).
#
# env: ROUNDS (3), DURATION (5s), SETUPS ("r3 r1 disk"), SMPPD
# (bin/smppd), SMPPBENCH (bin/smppbench); SMPPD_B: a second smppd binary,
# every setup then runs with both (labels A and B) and the summary gives
# B/A per setup (rate and CPU per message, median of the rounds' ratios);
# PROFILE=dir: a CPU profile of each r3 node per round (admin
# /debug/pprof/profile over the run) saved there; CONFIGS: the commit whose
# configs/ are copied (HEAD; the work tree may hold keys a binary lacks).
#
# Copies of the configs run in a temporary directory, each instance's ports
# moved up by 10000 + 100 x its index, so neither the demo's ports nor its
# data are touched. The setups' order rotates each round. Every process it
# starts is stopped by PID; every run is capped by timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
duration=${DURATION:-5s}
read -r -a kinds <<<"${SETUPS:-r3 r1 disk}"
smppbench=${SMPPBENCH:-bin/smppbench}
bins=("${SMPPD:-bin/smppd}")
labels=(A)
if [[ -n ${SMPPD_B:-} ]]; then
	bins+=("$SMPPD_B")
	labels+=(B)
fi
profile=${PROFILE:-}
rev=${CONFIGS:-HEAD}
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

# Instance i: its ports are the example configs' + 10000 + 100 i.
shift_ports() { # file offset
	local f=$1 off=$2
	for p in 2775 2785 2795 3550 3560 3570 8790 8791 8792 1401 1402 1403 4222 4223 4224 6222 6223 6224; do
		sed -i "s/\b$p\b/$((p + off))/g" "$f"
	done
}
section_set() { # file section key value: key = value inside [section]
	sed -i "/^\[$2\]\$/,/^\[/ s/^$3 = [^ ]*/$3 = $4/" "$1"
}
# Arrays per instance: its name, SMPP port, admin ports, pids.
names=() smpp=() admins=() ipids=()
start() { # kind label binary
	local kind=$1 label=$2 bin=$3 i=${#names[@]} off d ap=() pp=()
	off=$((10000 + 100 * i))
	d="$tmp/$kind-$label"
	mkdir -p "$d"
	case $kind in
	disk | r1)
		for f in smppd.toml users.toml; do git show "$rev:configs/$f" >"$d/$f"; done
		shift_ports "$d/smppd.toml" "$off"
		section_set "$d/smppd.toml" http-api enabled false
		section_set "$d/smppd.toml" admin pprof true
		if [[ $kind == r1 ]]; then
			section_set "$d/smppd.toml" cluster enabled true
			section_set "$d/smppd.toml" cluster node_id 1
			section_set "$d/smppd.toml" cluster replicas 1
		fi
		"$bin" -config "$d/smppd.toml" >"$d/node.log" 2>&1 &
		pp+=("$!")
		ap+=($((8790 + off)))
		;;
	r3)
		for f in node1.toml node2.toml node3.toml users.toml; do git show "$rev:configs/cluster/$f" >"$d/$f"; done
		for n in 1 2 3; do
			shift_ports "$d/node$n.toml" "$off"
			sed -i 's/^\[admin\]$/[admin]\npprof = true/' "$d/node$n.toml"
			"$bin" -config "$d/node$n.toml" >"$d/node$n.log" 2>&1 &
			pp+=("$!")
			ap+=($((8789 + n + off)))
		done
		;;
	*)
		echo "bench-cluster: unknown setup $kind (disk, r1, r3)" >&2
		exit 2
		;;
	esac
	pids+=("${pp[@]}")
	names+=("$kind-$label")
	smpp+=($((2775 + off)))
	admins+=("${ap[*]}")
	ipids+=("${pp[*]}")
}
for k in "${kinds[@]}"; do
	for b in "${!bins[@]}"; do start "$k" "${labels[$b]}" "${bins[$b]}"; done
done
wait_port() {
	for _ in $(seq 900); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench-cluster: nothing listens on $1; logs in $tmp" >&2
	for f in "$tmp"/*/*.log; do echo "== $f"; tail -n 20 "$f"; done >&2
	return 1
}
for p in "${smpp[@]}"; do wait_port "$p"; done
metric() { # metric admin-port...: the sum over the ports
	local m=$1 s=0 v
	shift
	for a in "$@"; do
		v=$(curl -s "http://127.0.0.1:$a/metrics" | awk -v m="$m" '$1 == m { printf "%d\n", $2 }')
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
cpu_ticks() { # pid...: utime + stime, clock ticks
	local s=0 t
	for p in "$@"; do
		t=$(awk '{ print $14 + $15 }' "/proc/$p/stat")
		s=$((s + t))
	done
	echo "$s"
}
hz=$(getconf CLK_TCK)
bench() { # port
	timeout -k 5 120 "$smppbench" -host 127.0.0.1 -port "$1" -user demo -password demopass \
		-sessions 4 -window 100 -duration "$duration" -warmup 1s -json
}
field() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["submit_per_s"], r["submit_resp"]["p50_us"], r["submit_resp"]["p99_us"], r["ok"], r["errors"]+r["throttled"])'; }
secs=$(python3 -c 'import sys,re; m=re.fullmatch(r"(\d+)s", sys.argv[1]); print(int(m.group(1)) + 1 if m else 6)' "$duration")
rows="$tmp/rows.tsv"
: >"$rows"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
[[ -n $profile ]] && mkdir -p "$profile"
printf '%-5s %-8s %11s %7s %8s %8s %7s %11s %10s %9s %9s %9s\n' round setup submit_sm/s p50_ms p99_ms ok refused cpu_us/msg js_ops/msg writes/op raw_B/msg sent_B/msg
n=${#names[@]}
for r in $(seq "$rounds"); do
	for k in $(seq 0 $((n - 1))); do
		i=$(((k + r - 1) % n))
		read -r -a ap <<<"${admins[$i]}"
		read -r -a pp <<<"${ipids[$i]}"
		a0=$(metric smppd_messages_accepted_total "${ap[@]}")
		b0=$(metric smppd_cluster_journal_batches_total "${ap[@]}")
		e0=$(metric smppd_cluster_journal_entries_total "${ap[@]}")
		y0=$(metric smppd_cluster_journal_published_bytes_total "${ap[@]}")
		x0=$(metric smppd_cluster_journal_bytes_total "${ap[@]}")
		c0=$(cpu_ticks "${pp[@]}")
		profs=()
		if [[ -n $profile && ${names[$i]} == r3-* ]]; then
			for a in "${ap[@]}"; do
				curl -s -o "$profile/${names[$i]}-round$r-$a.pprof" "http://127.0.0.1:$a/debug/pprof/profile?seconds=$secs" &
				profs+=("$!")
			done
		fi
		read -r rate p50 p99 ok bad < <(bench "${smpp[$i]}" | field)
		c1=$(cpu_ticks "${pp[@]}")
		for p in "${profs[@]}"; do wait "$p" || true; done
		a1=$(metric smppd_messages_accepted_total "${ap[@]}")
		b1=$(metric smppd_cluster_journal_batches_total "${ap[@]}")
		e1=$(metric smppd_cluster_journal_entries_total "${ap[@]}")
		y1=$(metric smppd_cluster_journal_published_bytes_total "${ap[@]}")
		x1=$(metric smppd_cluster_journal_bytes_total "${ap[@]}")
		awk -v r="$r" -v s="${names[$i]}" -v rate="$rate" -v p50="$p50" -v p99="$p99" -v ok="$ok" -v bad="$bad" \
			-v c=$((c1 - c0)) -v hz="$hz" -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v e=$((e1 - e0)) -v y=$((y1 - y0)) -v x=$((x1 - x0)) -v rows="$rows" 'BEGIN {
			cpu = a > 0 ? c / hz * 1e6 / a : 0; ops = a > 0 ? b / a : 0; w = b > 0 ? e / b : 0; by = a > 0 ? y / a : 0; bx = a > 0 ? x / a : 0
			printf "%-5s %-8s %11.0f %7.1f %8.1f %8d %7d %11.2f %10.4f %9.1f %9.0f %9.0f\n", r, s, rate, p50/1000, p99/1000, ok, bad, cpu, ops, w, bx, by
			printf "%s\t%s\t%f\t%f\t%f\t%f\t%f\n", r, s, rate, p99/1000, cpu, ops, ok >> rows }'
	done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$rows" <<'EOF'
import collections, statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
by = collections.defaultdict(dict)  # setup -> round -> (rate, p99, cpu, ops)
for r, s, rate, p99, cpu, ops, ok in rows:
    by[s][r] = (float(rate), float(p99), float(cpu), float(ops))
med = lambda xs: statistics.median(xs) if xs else float("nan")
print("medians per setup:")
for s in sorted(by):
    v = list(by[s].values())
    print(f"  {s:8} {med([x[0] for x in v]):10.0f} submit_sm/s  p99 {med([x[1] for x in v]):7.1f} ms  "
          f"{med([x[2] for x in v]):6.2f} us CPU/msg  {med([x[3] for x in v]):.4f} js_ops/msg  "
          f"r3 >= 15,000/s: {sum(x[0] >= 15000 for x in v)}/{len(v)} rounds" if s.startswith("r3") else
          f"  {s:8} {med([x[0] for x in v]):10.0f} submit_sm/s  p99 {med([x[1] for x in v]):7.1f} ms  "
          f"{med([x[2] for x in v]):6.2f} us CPU/msg  {med([x[3] for x in v]):.4f} js_ops/msg")
def ratio(a, b, k):  # median over rounds of a's k / b's k in the same round
    rs = [by[a][r][k] / by[b][r][k] for r in by[a] if r in by[b] and by[b][r][k] > 0]
    return med(rs)
for lab in sorted({s.split("-")[1] for s in by}):
    d, r1, r3 = f"disk-{lab}", f"r1-{lab}", f"r3-{lab}"
    for s in (r1, r3):
        if s in by and d in by:
            print(f"  {s} / {d}: rate {ratio(s, d, 0):.3f}, CPU per message {ratio(s, d, 2):.2f}x")
    if r1 in by and d in by:
        print(f"  the journal's cost per message ({r1} - {d}, medians): "
              f"{med([x[2] for x in by[r1].values()]) - med([x[2] for x in by[d].values()]):.2f} us CPU")
    if r3 in by and r1 in by:
        print(f"  replication's cost per message ({r3} - {r1}, medians): "
              f"{med([x[2] for x in by[r3].values()]) - med([x[2] for x in by[r1].values()]):.2f} us CPU")
for s in sorted(by):
    if s.endswith("-B") and s[:-1] + "A" in by:
        a = s[:-1] + "A"
        print(f"  {s} / {a}: rate {ratio(s, a, 0):.3f}, CPU per message {ratio(s, a, 2):.3f} (median of the rounds' ratios)")
EOF
