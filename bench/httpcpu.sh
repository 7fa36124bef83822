#!/usr/bin/env bash
# httpcpu.sh: the server's CPU per message on the customers' paths of one
# smppd build, side by side in one run: SMPP submit_sm (SESSIONS x WINDOW),
# the HTTP API's GET /send (SEND_CLIENTS keep-alive clients, one message a
# request) and POST /v1/messages (BATCH_CLIENTS clients, BATCH messages a
# request). Each round starts smppd on a fresh data directory of each store
# variant (bench/configs.sh) and runs the three phases one after the other,
# each its own smppbench process, reading smppd's CPU ticks around each.
#
#   bench/httpcpu.sh BIN_DIR   (smppd and smppbench)
#   env: STORES ("memory disk"), ROUNDS (3), DURATION (4s) (no warm-up: the
#        CPU and the messages of the whole phase),
#        SESSIONS (4), WINDOW (100), SEND_CLIENTS (64), BATCH (1000),
#        BATCH_CLIENTS (2), CDR (on | off), PORT (2795; admin PORT+6000,
#        HTTP API PORT+7000), OUT (a new temporary directory)
#
# The summary prints, per store and phase, the median messages/s and CPU
# µs per message, and each HTTP phase's CPU per message over SMPP's.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
(($# == 1)) || { echo "usage: bench/httpcpu.sh BIN_DIR" >&2; exit 2; }
STORES=${STORES:-"memory disk"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4s}
SESSIONS=${SESSIONS:-4}
WINDOW=${WINDOW:-100}
SEND_CLIENTS=${SEND_CLIENTS:-64}
BATCH=${BATCH:-1000}
BATCH_CLIENTS=${BATCH_CLIENTS:-2}
PORT=${PORT:-2795}
ADMIN=$((PORT + 6000))
API=$((PORT + 7000))
OUT=${OUT:-$(mktemp -d /tmp/smppd-httpcpu.XXXXXX)}
TCK=$(getconf CLK_TCK)
mkdir -p "$OUT"
# shellcheck source=bench/lib.sh
. bench/lib.sh
ab_builds "build=$1"
ports_free
# shellcheck disable=SC2086 # STORES is a list
bash bench/configs.sh "$OUT/cfg" "$PORT" $STORES || exit 1

# phase NAME STORE ROUND ARGS...: one smppbench run, its CPU and count.
phase() {
	local name=$1 st=$2 r=$3 f t0 t1
	shift 3
	f="$OUT/$st-$name-r$r.json"
	t0=$(cpu_ticks "$PID")
	timeout -k 5 90 "$BENCH" -port "$PORT" -duration "$DURATION" -warmup 0 -json "$@" >"$f" 2>/dev/null
	t1=$(cpu_ticks "$PID")
	perl -MJSON::PP -e '
		my ($f, $name, $st, $r, $cpu) = @ARGV;
		open my $fh, "<", $f or exit; local $/; my $j = eval { decode_json(<$fh>) } or exit;
		my ($n, $rate) = $name eq "smpp" ? ($j->{ok}, $j->{submit_per_s}) : ($j->{http}[0]{messages}, $j->{http}[0]{messages_per_s});
		printf "%s\t%s\t%s\t%.0f\t%d\t%.3f\n", $st, $name, $r, $rate, $n, $cpu;
	' "$f" "$name" "$st" "$r" "$(awk -v a="$t0" -v b="$t1" -v t="$TCK" 'BEGIN {print (b-a)/t}')" >>"$OUT/runs.tsv"
	tail -1 "$OUT/runs.tsv"
}

printf 'store\tphase\tround\tmsg_per_s\tmessages\tcpu_s\n' >"$OUT/runs.tsv"
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg); $1; stores {$STORES}; $ROUNDS rounds; CDR ${CDR:-on}; $OUT"
for r in $(seq "$ROUNDS"); do
	for st in $STORES; do
		rm -rf "$OUT/cfg/$st/var"
		start_smppd "$1" "$OUT/cfg/$st/smppd.toml"
		phase smpp "$st" "$r" -sessions "$SESSIONS" -window "$WINDOW"
		phase send "$st" "$r" -http "http://127.0.0.1:$API" -http-only -http-modes send -http-clients "$SEND_CLIENTS"
		phase batch "$st" "$r" -http "http://127.0.0.1:$API" -http-only -http-modes batch -http-batch "$BATCH" \
			-http-batch-clients "$BATCH_CLIENTS"
		stop
	done
done
echo "== $(date -u '+%H:%M:%S UTC') load average $(cut -d' ' -f1-3 /proc/loadavg)"
perl -e '
	open my $fh, "<", $ARGV[0] or die; <$fh>; my (%v, @k, %seen);
	while (<$fh>) { chomp; my @f = split /\t/; push @k, $f[0] unless $seen{$f[0]}++;
		push @{$v{$f[0]}{$f[1]}{rate}}, $f[3]; push @{$v{$f[0]}{$f[1]}{cpu}}, $f[4] ? 1e6 * $f[5] / $f[4] : 0; }
	sub med { my @v = sort { $a <=> $b } @_; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	print "| store | phase | messages/s | CPU µs/message | CPU ÷ SMPP | rounds |\n|---|---|---|---|---|---|\n";
	for my $st (@k) {
		my $base = med(@{$v{$st}{smpp}{cpu} // [0]});
		for my $p (qw(smpp send batch)) {
			my $x = $v{$st}{$p} or next; my $c = med(@{$x->{cpu}});
			printf "| %s | %s | %.0f | %.2f | %s | %d |\n", $st, $p, med(@{$x->{rate}}), $c,
				$base > 0 ? sprintf("%.1f×", $c / $base) : "-", scalar @{$x->{rate}};
		}
	}' "$OUT/runs.tsv" | tee "$OUT/table.md"
