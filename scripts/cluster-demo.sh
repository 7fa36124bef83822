#!/usr/bin/env bash
# make cluster-demo: the three nodes of configs/cluster (docs/CLUSTER.md) in
# the foreground, each line of their logs prefixed by its node; Ctrl-C (or a
# TERM) stops all three, and so does the end of any one of them.
# SMPPD overrides the binary (default bin/smppd, built by make).
set -u
cd "$(dirname "$0")/.."
bin=${SMPPD:-bin/smppd}
if [ ! -x "$bin" ]; then
	echo "cluster-demo: $bin not found: run make build" >&2
	exit 1
fi
pids=()
stop() {
	trap - INT TERM
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
for n in 1 2 3; do
	# $! is smppd itself (its output goes through the process substitution),
	# so the signals reach the nodes; the prefixing sed ignores Ctrl-C and
	# ends with its node's output, so the shutdown lines are shown.
	"$bin" -config "configs/cluster/node$n.toml" > >(trap '' INT; exec sed -u "s/^/node$n | /") 2>&1 &
	pids+=("$!")
done
echo "cluster-demo: nodes 1-3 (pids ${pids[*]}): SMPP 127.0.0.1:2775/2785/2795, HTTP 1401-1403, admin 8790-8792; Ctrl-C stops them" >&2
wait -n "${pids[@]}"
rc=$?
echo "cluster-demo: a node ended (exit $rc): stopping the others" >&2
stop
exit "$rc"
