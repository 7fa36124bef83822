#!/usr/bin/env bash
# moab.sh: the admin API's POST /v1/mo (an operator's MO injection) on smppd
# builds side by side, interleaved rounds, medians: requests/s and the
# server's CPU per request. Each run starts smppd on a fresh data directory
# of the demo config's variant (bench/configs.sh), binds one receiver as
# demo (smppbench -idle, answering every deliver_sm), and sends MO from
# smppbench's mo phase with CLIENTS keep-alive clients for DURATION or
# COUNT requests, whichever ends first; the audit log is the demo's (an
# fsynced file in the data directory with the disk store).
#
#   bench/moab.sh NAME=BIN_DIR...   (each BIN_DIR holds smppd; smppbench
#                                    comes from the first)
#   env: STORES ("disk"), CLIENTS ("1 8"), ROUNDS (3), DURATION (4s),
#        COUNT (50000), PORT (2795; admin on PORT+6000), OUT (a new
#        temporary directory: runs.tsv, every run's JSON and server log)
#
# The summary prints, per store and clients, each build's median
# requests/s, CPU µs per request and MO delivered, and each build's ratio
# to the first. Only the processes it starts are stopped, by PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
(($#)) || { echo "usage: bench/moab.sh NAME=BIN_DIR..." >&2; exit 2; }
STORES=${STORES:-disk}
CLIENTS=${CLIENTS:-"1 8"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4s}
COUNT=${COUNT:-50000}
PORT=${PORT:-2795}
# shellcheck source=bench/lib.sh
. bench/lib.sh
ab_setup moab "$@"

RX=
stop_rx() {
	[[ -n $RX ]] || return 0
	kill -TERM "$RX" 2>/dev/null
	wait "$RX" 2>/dev/null
	RX=
}
trap 'stop_rx; stop' EXIT

delivered() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" | awk '/^smppd_mo_delivered_total / {n=$2} END {print n+0}'
}
run() { # name dir store clients round
	local name=$1 dir=$2 st=$3 c=$4 r=$5 f t0 t1 d
	f="$OUT/$name-$st-c$c-r$r.json"
	rm -rf "$OUT/cfg/$st/var"
	start_smppd "$dir" "$OUT/cfg/$st/smppd.toml" "$name-$st-c$c-r$r"
	"$BENCH" -port "$PORT" -idle 1 -hold 120s >/dev/null 2>&1 &
	RX=$!
	for _ in $(seq 50); do
		curl -s --max-time 2 "http://127.0.0.1:$ADMIN/v1/sessions" | grep -q '"demo"' && break
		sleep 0.1
	done
	t0=$(cpu_ticks "$PID")
	timeout -k 5 90 "$BENCH" -http-only -http-modes mo -admin "http://127.0.0.1:$ADMIN" -http-clients "$c" \
		-duration "$DURATION" -http-count "$COUNT" -json >"$f" 2>/dev/null
	t1=$(cpu_ticks "$PID")
	sleep 0.5 # the last deliver_sm answered
	d=$(delivered)
	stop_rx
	stop
	perl -MJSON::PP -e '
		my ($f, $name, $st, $c, $r, $cpu, $d) = @ARGV;
		open my $fh, "<", $f or exit; local $/; my $j = eval { decode_json(<$fh>) } or exit;
		my $m = $j->{http}[0];
		printf "%s\t%s\t%s\t%s\t%.0f\t%d\t%d\t%.3f\t%d\t%.0f\n", $name, $st, $c, $r,
			$m->{requests_per_s}, $m->{requests}, $m->{refused} + $m->{errors}, $cpu, $d, $m->{request_latency}{p99_us} // 0;
	' "$f" "$name" "$st" "$c" "$r" "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" 'BEGIN {print (b-a)/t}')" "$d" >>"$OUT/runs.tsv"
	tail -1 "$OUT/runs.tsv"
}

printf 'build\tstore\tclients\tround\treq_per_s\trequests\tfailed\tcpu_s\tdelivered\tp99_us\n' >"$OUT/runs.tsv"
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); builds ${names[*]}; stores {$STORES}; clients {$CLIENTS}; $ROUNDS rounds; $OUT"
for r in $(seq "$ROUNDS"); do
	for c in $CLIENTS; do
		for st in $STORES; do
			for i in "${!names[@]}"; do
				run "${names[$i]}" "${dirs[$i]}" "$st" "$c" "$r"
			done
		done
	done
done
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg)"
perl -e '
	open my $fh, "<", $ARGV[0] or die; <$fh>; my (%v, @k, %seen, @b, %bseen);
	while (<$fh>) { chomp; my @f = split /\t/; my $k = "$f[1] c=$f[2]"; push @k, $k unless $seen{$k}++; push @b, $f[0] unless $bseen{$f[0]}++;
		push @{$v{$k}{$f[0]}{$_->[0]}}, $_->[1] for [rate => $f[4]], [cpu => $f[5] ? 1e6 * $f[7] / $f[5] : 0], [fail => $f[6]],
			[dlv => $f[5] ? $f[8] / $f[5] : 0], [p99 => $f[9]]; }
	sub med { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	print "| store, clients | build | requests/s | CPU µs/request | p99 | failed | delivered ÷ accepted | rounds |\n|---|---|---|---|---|---|---|---|\n";
	for my $k (@k) {
		my $x0 = $v{$k}{$b[0]};
		for my $b (@b) {
			my $x = $v{$k}{$b} or next;
			my ($rate, $cpu) = (med(@{$x->{rate}}), med(@{$x->{cpu}}));
			my $ratio = $b eq $b[0] ? "" : sprintf(" (%.2f×)", $rate / med(@{$x0->{rate}}));
			my $cr = $b eq $b[0] ? "" : sprintf(" (%.2f×)", $cpu / med(@{$x0->{cpu}}));
			printf "| %s | %s | %.0f%s | %.1f%s | %.2f ms | %d | %.3f | %d |\n", $k, $b, $rate, $ratio, $cpu, $cr,
				med(@{$x->{p99}}) / 1000, med(@{$x->{fail}}), med(@{$x->{dlv}}), scalar @{$x->{rate}};
		}
	}' "$OUT/runs.tsv" | tee "$OUT/table.md"
