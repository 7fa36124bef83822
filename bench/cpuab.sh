#!/usr/bin/env bash
# cpuab.sh: one Go micro-benchmark's CPU time per op in two builds, side by
# side. On a shared machine wall-clock ns/op swings with the load (and some
# benchmarks are capped by a clock, like HandleSubmit by the id gate), so a
# sample is the benchmark binary's task-clock (perf stat) for N iterations
# minus that for 1 (start-up), divided by N. Rounds alternate A and B; the
# medians and the p-value come from benchstat.
#
#   bench/cpuab.sh DIR BENCH N ROUNDS A.test B.test [OUT]
#
# DIR is the package folder to run in (a test may read its testdata), BENCH
# the -test.bench pattern naming one benchmark (e.g. '^BenchmarkHandleSubmit$'),
# A.test and B.test binaries from `go test -c -o X.test ./pkg` in a worktree
# of each commit. Samples go to OUT.A and OUT.B (default /tmp/cpuab).
set -euo pipefail
(($# >= 6)) || { echo "usage: bench/cpuab.sh DIR BENCH N ROUNDS A.test B.test [OUT]" >&2; exit 2; }
dir=$1 re=$2 n=$3 rounds=$4 out=${7:-/tmp/cpuab}
a=$(realpath "$5") b=$(realpath "$6")
command -v perf >/dev/null || { echo "cpuab: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
bs=$(command -v benchstat || echo "$(go env GOPATH)/bin/benchstat")
[[ -x $bs ]] || { echo "cpuab: benchstat missing (go install golang.org/x/perf/cmd/benchstat@latest)" >&2; exit 1; }

msec() { # binary iterations -> task-clock in ms
	perf stat -x, -e task-clock "$1" -test.run '^$' -test.bench "$re" -test.benchtime "${2}x" 2>&1 >/dev/null |
		awk -F, '/task-clock/ { print $1 }'
}

rm -f "$out.A" "$out.B"
cd "$dir"
for r in $(seq "$rounds"); do
	for side in A B; do
		bin=$a
		[[ $side == B ]] && bin=$b
		full=$(msec "$bin" "$n")
		base=$(msec "$bin" 1)
		ns=$(awk -v f="$full" -v s="$base" -v n="$n" 'BEGIN { printf "%.2f", (f - s) * 1e6 / n }')
		echo "BenchmarkCPU 1 $ns ns/op" >>"$out.$side"
		echo "round $r $side $ns ns/op, load $(cut -d' ' -f1 /proc/loadavg)"
	done
done
"$bs" "$out.A" "$out.B"
