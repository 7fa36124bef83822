#!/usr/bin/env bash
# abstore.sh: smppd builds side by side on the storage variants of the demo
# config (bench/configs.sh), interleaved rounds, medians, ratios; for the
# disk variants the rate fsync alone allows is printed beside the measured
# one (Little's law: sessions x window in flight over the mean fsync time
# the store's metrics report for the run), and the submits each fsync
# carried (acknowledged submits over the fsyncs of the measured part).
#
#   bench/abstore.sh NAME=BIN_DIR...   (each BIN_DIR holds smppd; smppbench
#                                       comes from the first)
#   env: STORES ("memory disk"), CELLS ("4x100 64x100"), RECEIPTS ("0"; "0 1"),
#        ROUNDS (3), DURATION (3s), WARMUP (1s), CDR (on | off), PORT (2795;
#        admin on PORT+6000), OUT (a new temporary directory: runs.tsv and
#        every run's JSON and server log; a server that exits on its own or
#        with a status not 0 is reported on stderr with its log's tail)
#
# One row per run goes to OUT/runs.tsv; the summary prints, per cell and
# receipts setting, the median submit/s of every build x store, its p99
# submit->resp, the server's CPU per submit, the mean fsync and the fsync
# bound, the CDR backlogs and MT requests held unread per run (the
# tail's usual cause with CDRs on), and the ratios disk / memory of each
# build. The load average is
# printed before and after. Only the servers it starts are stopped, by PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
(($#)) || { echo "usage: bench/abstore.sh NAME=BIN_DIR..." >&2; exit 2; }
STORES=${STORES:-"memory disk"}
CELLS=${CELLS:-"4x100 64x100"}
RECEIPTS=${RECEIPTS:-0}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-3s}
WARMUP=${WARMUP:-1s}
PORT=${PORT:-2795}
# shellcheck source=bench/lib.sh
. bench/lib.sh
ab_setup abstore "$@"

# fsyncs: "count seconds backlogs waits" from the admin API's metrics: the
# store's fsyncs, the CDR backlogs (the queue past queue_high_water) and the
# MT requests held unread (each retry a tick later counts).
fsyncs() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" |
		awk '/^smppd_storage_fsyncs_total / {n=$2} /^smppd_storage_fsync_time_seconds_total / {s=$2}
			/^smppd_cdr_backlogs_total / {b=$2} /^smppd_submit_queue_waits_total / {w=$2} END {print n+0, s+0, b+0, w+0}'
}
run() { # name dir store sessions window receipts round
	local name=$1 dir=$2 st=$3 s=$4 w=$5 d=$6 r=$7 f t0 t1 f0 f1 flags=()
	f="$OUT/$name-$st-${s}x$w-dlr$d-r$r.json"
	rm -rf "$OUT/cfg/$st/var"
	start_smppd "$dir" "$OUT/cfg/$st/smppd.toml" "$name-$st-${s}x$w-dlr$d-r$r"
	((d)) && flags=(-dlr -dlr-wait 5s)
	timeout -k 5 90 "$BENCH" -port "$PORT" -sessions "$s" -window "$w" -duration "$DURATION" -warmup "$WARMUP" \
		"${flags[@]}" -json >"$f" 2>/dev/null &
	local b=$!
	sleep "${WARMUP%s}" # CPU and fsyncs from the end of the warm-up (drains included)
	t0=$(cpu_ticks "$PID")
	f0=$(fsyncs)
	wait "$b"
	t1=$(cpu_ticks "$PID")
	f1=$(fsyncs)
	stop
	perl -MJSON::PP -e '
		my ($f, $name, $st, $s, $w, $d, $r, $cpu, $f0, $f1) = @ARGV;
		open my $fh, "<", $f or exit; local $/; my $j = eval { decode_json(<$fh>) } or exit;
		my ($n0, $s0, $b0, $w0) = split / /, $f0; my ($n1, $s1, $b1, $w1) = split / /, $f1;
		my $fm = ($n1 - $n0) > 0 ? 1e6 * ($s1 - $s0) / ($n1 - $n0) : 0;
		printf "%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%.0f\t%.3f\t%d\t%.1f\t%d\t%d\t%d\n", $name, $st, $s, $w, $d, $r,
			$j->{submit_per_s} // 0, $j->{submit_resp}{p99_us} // 0, $cpu, $j->{ok} // 0, $fm, $b1 - $b0, $w1 - $w0, $n1 - $n0;
	' "$f" "$name" "$st" "$s" "$w" "$d" "$r" "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" 'BEGIN {print (b-a)/t}')" "$f0" "$f1" >>"$OUT/runs.tsv"
}

printf 'build\tstore\tsessions\twindow\treceipts\tround\tsubmit_per_s\tp99_us\tcpu_s\tok\tfsync_mean_us\tcdr_backlogs\tqueue_waits\tfsyncs\n' >"$OUT/runs.tsv"
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); builds ${names[*]}; stores {$STORES}; cells {$CELLS}; receipts {$RECEIPTS}; $ROUNDS rounds; CDR ${CDR:-on}; $OUT"
for d in $RECEIPTS; do
	for cell in $CELLS; do
		s=${cell%x*} w=${cell#*x}
		for r in $(seq "$ROUNDS"); do
			for i in "${!names[@]}"; do
				for st in $STORES; do
					run "${names[$i]}" "${dirs[$i]}" "$st" "$s" "$w" "$d" "$r"
				done
			done
		done
	done
done
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg)"
perl -e '
	open my $fh, "<", $ARGV[0] or die; <$fh>; my (%v, @k, %seen);
	while (<$fh>) { chomp; my @f = split /\t/; my $k = "$f[2]x$f[3] dlr=$f[4]"; push @k, $k unless $seen{$k}++;
		push @{$v{$k}{"$f[0] $f[1]"}{$_->[0]}}, $_->[1] for [rate => $f[6]], [p99 => $f[7]], [cpu => $f[9] ? 1e6 * $f[8] / $f[9] : 0], [fs => $f[10]], [bl => $f[11] // 0], [qw => $f[12] // 0], [mpf => ($f[13] // 0) > 0 ? $f[9] / $f[13] : 0]; }
	sub med { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	print "| cell | build store | submit/s | p99 submit→resp | CPU µs/msg | fsync mean → bound | submits per fsync | CDR backlogs / queue waits | runs |\n|---|---|---|---|---|---|---|---|---|\n";
	for my $k (@k) {
		my ($s, $w) = $k =~ /^(\d+)x(\d+)/;
		for my $bs (sort keys %{$v{$k}}) {
			my $x = $v{$k}{$bs}; my ($r, $fs) = (med(@{$x->{rate}}), med(@{$x->{fs}}));
			my $bound = $fs > 0 ? sprintf("%.0f µs → %.0f/s (%.0f%%)", $fs, $s * $w / ($fs / 1e6), 100 * $r / ($s * $w / ($fs / 1e6))) : "-";
			printf "| %s | %s | %.0f | %.2f ms | %.2f | %s | %s | %s / %s | %d |\n", $k, $bs, $r, med(@{$x->{p99}}) / 1000, med(@{$x->{cpu}}), $bound,
				(med(@{$x->{mpf}}) ? sprintf("%.1f", med(@{$x->{mpf}})) : "-"),
				med(@{$x->{bl}}), med(@{$x->{qw}}), scalar @{$x->{rate}};
		}
		my %b; for my $bs (keys %{$v{$k}}) { my ($b, $st) = split / /, $bs; $b{$b}{$st} = med(@{$v{$k}{$bs}{rate}}) }
		for my $b (sort keys %b) { printf "| %s | %s disk ÷ memory | %.0f%% | | | | | | |\n", $k, $b, 100 * $b{$b}{disk} / $b{$b}{memory} if $b{$b}{disk} && $b{$b}{memory} }
	}' "$OUT/runs.tsv" | tee "$OUT/table.md"
