#!/usr/bin/env bash
# memab.sh: smppd's memory at one load, builds side by side. Each build runs
# on the demo config's memory and disk variants (bench/configs.sh, CDRs as
# the demo ships them unless CDR=off); the disk variant gets a short record
# life (default_validity and message_ttl TTL, 1s) so its live records level
# off within the run. Builds x stores are interleaved in every round.
#
# Per run, read 1 s before the load ends: VmRSS, its anonymous and
# file-backed parts (/proc/PID/smaps_rollup), the Go runtime's heap in use,
# heap idle and released, goroutine stacks and the runtime's total from the
# OS (go_memstats_* on the admin's /metrics), goroutines and the store's
# live records; after the run: VmHWM (the peak), smppd's CPU per accepted
# submit from the end of the warm-up and the final states the CDR writer's
# full queue dropped (smppd_cdr_dropped_total).
#
#   bench/memab.sh NAME=BIN_DIR...    (each BIN_DIR holds smppd; smppbench
#                                      comes from the first)
#   env: STORES ("memory disk"), CELL (64x100), ROUNDS (3), DURATION (6s),
#        WARMUP (1s), TTL (1s), CDR (on | off), PORT (2815; admin PORT+6000),
#        OUT (a new temporary directory: runs.tsv, every run's JSON)
#
# Prints the medians per build x store. Only the servers it starts are
# stopped, by PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
(($#)) || { echo "usage: bench/memab.sh NAME=BIN_DIR..." >&2; exit 2; }
STORES=${STORES:-"memory disk"}
CELL=${CELL:-64x100}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-6s}
WARMUP=${WARMUP:-1s}
TTL=${TTL:-1s}
PORT=${PORT:-2815}
# shellcheck source=bench/lib.sh
. bench/lib.sh
ab_setup memab "$@"
if [[ -f $OUT/cfg/disk/smppd.toml ]]; then
	sed -i -e "s/^default_validity = .*/default_validity = \"$TTL\"/" -e "s/^message_ttl = .*/message_ttl = \"$TTL\"/" "$OUT/cfg/disk/smppd.toml"
fi

kib() { awk -v k="$1" '$1 == k":" {print $2}' "$2"; }
gostats() {
	curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" | awk '
		/^go_memstats_heap_inuse_bytes / {hi = $2} /^go_memstats_heap_idle_bytes / {hd = $2}
		/^go_memstats_heap_released_bytes / {hr = $2} /^go_memstats_stack_inuse_bytes / {st = $2}
		/^go_memstats_sys_bytes / {sy = $2} /^go_goroutines / {g = $2}
		/^smppd_storage_records_by_state/ {n += $2}
		END {printf "%d\t%d\t%d\t%d\t%d\t%d\t%d", hi / 1024, hd / 1024, hr / 1024, st / 1024, sy / 1024, g, n}'
}
run() { # name dir store round
	local name=$1 dir=$2 st=$3 r=$4 s=${CELL%x*} w=${CELL#*x} f t0 t1 rss anon file go hwm drop
	f="$OUT/$name-$st-r$r.json"
	rm -rf "$OUT/cfg/$st/var"
	start_smppd "$dir" "$OUT/cfg/$st/smppd.toml"
	timeout -k 5 120 "$BENCH" -port "$PORT" -sessions "$s" -window "$w" -duration "$DURATION" -warmup "$WARMUP" \
		-json >"$f" 2>/dev/null &
	local b=$!
	sleep "${WARMUP%s}"
	t0=$(cpu_ticks "$PID")
	sleep "$(awk -v d="${DURATION%s}" 'BEGIN {print d - 1}')"
	rss=$(kib VmRSS "/proc/$PID/status")
	anon=$(kib Anonymous "/proc/$PID/smaps_rollup")
	file=$((rss - anon))
	go=$(gostats)
	wait "$b"
	t1=$(cpu_ticks "$PID")
	hwm=$(kib VmHWM "/proc/$PID/status")
	drop=$(curl -s --max-time 2 "http://127.0.0.1:$ADMIN/metrics" | awk '/^smppd_cdr_dropped_total / {d = $2} END {printf "%d", d}')
	stop
	perl -MJSON::PP -e '
		my ($f, $name, $st, $r, $cpu, $hwm, $rss, $anon, $file, $go, $drop) = @ARGV;
		open my $fh, "<", $f or exit; local $/; my $j = eval { decode_json(<$fh>) } or exit;
		my $ok = $j->{ok} // 0;
		printf "%s\t%s\t%s\t%.0f\t%.3f\t%d\t%d\t%d\t%d\t%s\t%d\n", $name, $st, $r, $j->{submit_per_s} // 0,
			$ok ? 1e6 * $cpu / $ok : 0, $hwm, $rss, $anon, $file, $go, $drop;
	' "$f" "$name" "$st" "$r" "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" 'BEGIN {print (b-a)/t}')" \
		"$hwm" "$rss" "$anon" "$file" "$go" "$drop" >>"$OUT/runs.tsv"
}

printf 'build\tstore\tround\tsubmit_per_s\tcpu_us_per_msg\thwm_kib\trss_kib\tanon_kib\tfile_kib\theap_inuse_kib\theap_idle_kib\theap_released_kib\tstack_kib\tgo_sys_kib\tgoroutines\tlive_records\tcdr_dropped\n' >"$OUT/runs.tsv"
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); builds ${names[*]}; stores {$STORES}; $CELL; $ROUNDS rounds of $DURATION; CDR ${CDR:-on}; disk TTL $TTL; $OUT"
for r in $(seq "$ROUNDS"); do
	for i in "${!names[@]}"; do
		for st in $STORES; do
			run "${names[$i]}" "${dirs[$i]}" "$st" "$r"
		done
	done
done
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg)"
perl -e '
	open my $fh, "<", $ARGV[0] or die; my @h = split /\t/, scalar <$fh>; chomp @h; my (%v, @k, %seen);
	while (<$fh>) { chomp; my @f = split /\t/; my $k = "$f[0] $f[1]"; push @k, $k unless $seen{$k}++;
		push @{$v{$k}[$_]}, $f[$_] for 3 .. $#f; }
	sub med { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	my @c = (3 .. $#h);
	print "| build store | ", join(" | ", map { my $x = $h[$_]; $x =~ s/_kib$/ MiB/; $x } @c), " | runs |\n";
	print "|---|", "---|" x @c, "---|\n";
	for my $k (@k) {
		print "| $k | ", join(" | ", map { my $m = med(@{$v{$k}[$_]}); $h[$_] =~ /_kib$/ ? sprintf("%.1f", $m / 1024) :
			$h[$_] =~ /cpu/ ? sprintf("%.2f", $m) : sprintf("%.0f", $m) } @c), " | ", scalar @{$v{$k}[3]}, " |\n";
	}' "$OUT/runs.tsv" | tee "$OUT/table.md"
