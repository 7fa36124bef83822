#!/usr/bin/env bash
# cdrab.sh: what the CDR stream keeps under load, builds side by side: for
# each run, the submits answered ESME_ROK and ESME_RTHROTTLED, the server's
# CPU per accepted submit, and from its metrics the final states the CDR
# queue dropped, the backlogs (queue past [cdr] queue_high_water: new MT
# refused) and the CDR lines written. Rounds interleave the builds; each
# run starts on an empty data directory (bench/configs.sh variants, CDRs
# on) and the server is stopped, by its PID, after the metrics are read.
#
#   bench/cdrab.sh NAME=BIN_DIR...   (each BIN_DIR holds smppd; smppbench
#                                     comes from the first)
#   env: STORES ("memory disk"), CELL (64x100), ROUNDS (3), DURATION (6s),
#        WARMUP (1s), PORT (2797; admin on PORT+6000), OUT (a new
#        temporary directory: runs.tsv and every run's JSON)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
(($#)) || { echo "usage: bench/cdrab.sh NAME=BIN_DIR..." >&2; exit 2; }
STORES=${STORES:-"memory disk"}
CELL=${CELL:-64x100}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6s}
WARMUP=${WARMUP:-1s}
PORT=${PORT:-2797}
# shellcheck source=bench/lib.sh
. bench/lib.sh
CDR=on ab_setup cdrab "$@"

metric() { awk -v m="$2" '$1 == m {print $2 + 0; f = 1} END {if (!f) print 0}' "$1"; }

run() { # name dir store round
	local name=$1 dir=$2 st=$3 r=$4 f m t0 t1 s=${CELL%x*} w=${CELL#*x}
	f="$OUT/$name-$st-r$r.json" m="$OUT/$name-$st-r$r.metrics"
	rm -rf "$OUT/cfg/$st/var"
	start_smppd "$dir" "$OUT/cfg/$st/smppd.toml"
	timeout -k 5 90 "$BENCH" -port "$PORT" -sessions "$s" -window "$w" -duration "$DURATION" -warmup "$WARMUP" -json >"$f" 2>/dev/null &
	local b=$!
	sleep "${WARMUP%s}"
	t0=$(cpu_ticks "$PID")
	wait "$b"
	t1=$(cpu_ticks "$PID")
	sleep 1 # the writer empties its queue
	curl -s --max-time 5 "http://127.0.0.1:$ADMIN/metrics" >"$m"
	stop
	perl -MJSON::PP -e '
		my ($f, $name, $st, $r, $cpu, $drop, $bl, $written, $refused) = @ARGV;
		open my $fh, "<", $f or exit; local $/; my $j = eval { decode_json(<$fh>) } or exit;
		my $ok = $j->{ok} // 0;
		printf "%s\t%s\t%s\t%.0f\t%d\t%d\t%.3f\t%.2f\t%d\t%d\t%d\t%d\n", $name, $st, $r, $j->{submit_per_s} // 0, $ok,
			$j->{throttled} // 0, $cpu, $ok ? 1e6 * $cpu / $ok : 0, $drop, $bl, $written, $refused;
	' "$f" "$name" "$st" "$r" "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" 'BEGIN {print (b-a)/t}')" \
		"$(metric "$m" smppd_cdr_dropped_total)" "$(metric "$m" smppd_cdr_backlogs_total)" \
		"$(metric "$m" smppd_cdr_written_total)" "$(metric "$m" 'smppd_messages_refused_total{reason="cdr_backlog"}')" >>"$OUT/runs.tsv"
}

printf 'build\tstore\tround\tsubmit_per_s\tok\tthrottled\tcpu_s\tcpu_us_per_ok\tcdr_dropped\tcdr_backlogs\tcdr_written\tcdr_backlog_refused\n' >"$OUT/runs.tsv"
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); builds ${names[*]}; stores {$STORES}; $CELL; $ROUNDS rounds; $OUT"
for r in $(seq "$ROUNDS"); do
	for i in "${!names[@]}"; do
		for st in $STORES; do
			run "${names[$i]}" "${dirs[$i]}" "$st" "$r"
		done
	done
done
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg)"
column -t -s $'\t' "$OUT/runs.tsv"
perl -e '
	open my $fh, "<", $ARGV[0] or die; <$fh>; my (%v, @k, %seen);
	while (<$fh>) { chomp; my @f = split /\t/; my $k = "$f[0] $f[1]"; push @k, $k unless $seen{$k}++;
		push @{$v{$k}{rate}}, $f[3]; push @{$v{$k}{thr}}, $f[5]; push @{$v{$k}{cpu}}, $f[7]; push @{$v{$k}{drop}}, $f[8]; }
	sub med { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	print "| build store | submit/s (ESME_ROK) | throttled | CPU µs/accepted | CDR dropped (each run) |\n|---|---|---|---|---|\n";
	printf "| %s | %.0f | %.0f | %.2f | %s |\n", $_, med(@{$v{$_}{rate}}), med(@{$v{$_}{thr}}), med(@{$v{$_}{cpu}}), join(", ", @{$v{$_}{drop}}) for @k;
' "$OUT/runs.tsv" | tee "$OUT/table.md"
