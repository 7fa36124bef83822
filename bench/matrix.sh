#!/usr/bin/env bash
# matrix.sh: the benchmark matrix of docs/BENCHMARKS.md. smppbench against
# smppd (the demo config, as `make run` starts it) and the raw ceiling, for
# every sessions x window cell, without and with registered_delivery=1,
# REPEATS rounds with the server order rotating each round, then tables of
# medians. Each run starts a fresh server, so its CPU time (utime+stime,
# from /proc/PID/stat) and peak RSS (VmHWM) belong to that run alone.
#
#   bench/matrix.sh
#   env: SESSIONS ("1 4 16 64"), WINDOWS ("1 10 100"), RECEIPTS ("0 1"),
#        REPEATS (3), DURATION (2s), WARMUP (0.5s), DLR_WAIT (5s: a receipt
#        later than this after the last response counts as missing),
#        CONFIG (configs/smppd.toml), PORT_RAW (2776), OUT (a new temporary
#        directory: every run's JSON, runs.tsv and table.md stay there),
#        NOBUILD (1: use bin/ as it is), REPORT (the OUT of an earlier run:
#        print its tables again and stop).
#
# The raw ceiling sends no receipts, so the receipt cells run smppd alone
# and compare it with its own rate without receipts. Everything listens on
# and talks to 127.0.0.1; the script stops only the servers it started, by
# PID, and caps every smppbench run with `timeout`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

SESSIONS=${SESSIONS:-"1 4 16 64"}
WINDOWS=${WINDOWS:-"1 10 100"}
RECEIPTS=${RECEIPTS:-"0 1"}
REPEATS=${REPEATS:-3}
DURATION=${DURATION:-2s}
WARMUP=${WARMUP:-0.5s}
DLR_WAIT=${DLR_WAIT:-5s}
CONFIG=${CONFIG:-configs/smppd.toml}
PORT_RAW=${PORT_RAW:-2776}
PORT_SMPPD=$(sed -n 's/^port *= *\([0-9]*\).*/\1/p' "$CONFIG" | head -1)
OUT=${OUT:-$(mktemp -d /tmp/smppd-matrix.XXXXXX)}
CAP=60 # seconds any one smppbench run may take, drains included
TCK=$(getconf CLK_TCK)
mkdir -p "$OUT"

ulimit -n "$(ulimit -Hn)" 2>/dev/null # 64 sessions need few; keep the soft limit out of the way

SERVER_PID=
stop_server() {
	[[ -n $SERVER_PID ]] || return 0
	kill -TERM "$SERVER_PID" 2>/dev/null
	for _ in $(seq 100); do # smppd drains for up to shutdown_grace; give it 10 s
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# report dir: the tables of medians from dir/runs.tsv, also into dir/table.md.
report() {
	perl -e '
		my ($tsv) = @ARGV;
		open my $fh, "<", $tsv or die "$tsv: $!"; <$fh>;
		my %v; # {receipts}{sessions x window}{server}{column} = [values]
		my @cols = qw(submit_per_s receipt_per_s p50_us p99_us dlr_p99_us ok refused missing cpu_s wall_s hwm_kb);
		my (%seen, @cells);
		while (<$fh>) {
			chomp; my ($s, $w, $d, $n, $r, @x) = split /\t/;
			my $c = "$s\t$w"; push @cells, $c unless $seen{$c}++;
			push @{$v{$d}{$c}{$n}{$cols[$_]}}, $x[$_] for 0 .. $#cols;
		}
		sub med { my @v = sort { $a <=> $b } @_; return undef unless @v; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
		sub md { my ($d, $c, $n, $k) = @_; med(@{$v{$d}{$c}{$n}{$k} // []}) }
		sub runs { my ($d, $c, $n) = @_; scalar @{$v{$d}{$c}{$n}{submit_per_s} // []} }
		sub us { my $u = shift; return "-" unless defined $u && $u > 0;
			$u >= 1e6 ? sprintf("%.2f s", $u / 1e6) : $u >= 1000 ? sprintf("%.2f ms", $u / 1000) : sprintf("%.0f µs", $u) }
		sub num { my $x = shift; return "-" unless defined $x; my $t = sprintf("%.0f", $x); 1 while $t =~ s/^(\d+)(\d{3})/$1,$2/; $t }
		sub pct { my ($a, $b) = @_; defined $a && $b ? sprintf("%.0f%%", 100 * $a / $b) : "-" }
		# CPU as % of one core over the run, and per OK submit (µs); RSS in MiB.
		sub cpu { my ($d, $c, $n) = @_; my ($cs, $ws, $ok) = map { md($d, $c, $n, $_) } qw(cpu_s wall_s ok);
			return "-" unless $ws; sprintf("%.0f%% (%.1f µs/msg)", 100 * $cs / $ws, $ok ? 1e6 * $cs / $ok : 0) }
		sub rss { my $k = md(@_, "hwm_kb"); defined $k ? sprintf("%.1f", $k / 1024) : "-" }
		if ($v{0}) {
			print "\n### Without receipts (medians; % of ceiling = smppd ÷ raw, same cell, same rounds)\n\n";
			print "| sessions | window | smppd submit/s | raw submit/s | % of ceiling | smppd p50 / p99 submit→resp | raw p50 / p99 | refused (ESME_RMSGQFUL etc.) | smppd CPU (% of a core, per msg) | smppd peak RSS MiB | runs |\n";
			print "|---|---|---|---|---|---|---|---|---|---|---|\n";
			for my $c (@cells) {
				next unless $v{0}{$c};
				my ($s, $w) = split /\t/, $c;
				printf "| %d | %d | %s | %s | %s | %s / %s | %s / %s | %s | %s | %s | %d+%d |\n", $s, $w,
					num(md(0, $c, "smppd", "submit_per_s")), num(md(0, $c, "raw", "submit_per_s")),
					pct(md(0, $c, "smppd", "submit_per_s"), md(0, $c, "raw", "submit_per_s")),
					us(md(0, $c, "smppd", "p50_us")), us(md(0, $c, "smppd", "p99_us")),
					us(md(0, $c, "raw", "p50_us")), us(md(0, $c, "raw", "p99_us")),
					num(md(0, $c, "smppd", "refused")), cpu(0, $c, "smppd"), rss(0, $c, "smppd"),
					runs(0, $c, "smppd"), runs(0, $c, "raw");
			}
		}
		if ($v{1}) {
			print "\n### With registered_delivery=1 (smppd only: the ceiling sends no receipts)\n\n";
			print "| sessions | window | submit/s | % of smppd without receipts | % of ceiling | refused | receipts/s | missing (median) | p50 / p99 submit→resp | p99 submit→receipt | CPU (% of a core, per msg) | peak RSS MiB | runs |\n";
			print "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
			for my $c (@cells) {
				next unless $v{1}{$c};
				my ($s, $w) = split /\t/, $c;
				my $r = md(1, $c, "smppd", "submit_per_s");
				printf "| %d | %d | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %d |\n", $s, $w, num($r),
					pct($r, md(0, $c, "smppd", "submit_per_s")), pct($r, md(0, $c, "raw", "submit_per_s")),
					num(md(1, $c, "smppd", "refused")), num(md(1, $c, "smppd", "receipt_per_s")), num(md(1, $c, "smppd", "missing")),
					us(md(1, $c, "smppd", "p50_us")), us(md(1, $c, "smppd", "p99_us")), us(md(1, $c, "smppd", "dlr_p99_us")),
					cpu(1, $c, "smppd"), rss(1, $c, "smppd"), runs(1, $c, "smppd");
			}
}' "$1/runs.tsv" | tee "$1/table.md"
}
if [[ -n ${REPORT:-} ]]; then
	report "$REPORT"
	exit
fi

if [[ ${NOBUILD:-0} != 1 ]]; then
	echo "== building"
	mkdir -p bin
	go build -o bin/smppbench ./cmd/smppbench && go build -o bin/smppbench-raw ./bench/peers/raw &&
		go build -o bin/smppd ./cmd/smppd || exit 1
fi
for p in "$PORT_RAW" "$PORT_SMPPD"; do
	if port_open "$p"; then
		echo "127.0.0.1:$p is already in use by a process we did not start; stop it first" >&2
		exit 1
	fi
done

# start_server name: starts it, waits for its port, and for smppd binds
# once so that the password is hashed before the measured CPU starts.
start_server() {
	local name=$1 port
	if [[ $name == raw ]]; then
		port=$PORT_RAW
		./bin/smppbench-raw -addr "127.0.0.1:$port" >"$OUT/server.log" 2>&1 &
	else
		port=$PORT_SMPPD
		./bin/smppd -config "$CONFIG" >"$OUT/server.log" 2>&1 &
	fi
	SERVER_PID=$!
	for _ in $(seq 100); do
		port_open "$port" && break
		kill -0 "$SERVER_PID" 2>/dev/null || { echo "$name exited: $(tail -c 500 "$OUT/server.log")" >&2; return 1; }
		sleep 0.1
	done
	if [[ $name == smppd ]]; then
		timeout 30 ./bin/smppbench -port "$port" -user demo -password demopass -idle 1 -hold 1ms >/dev/null 2>&1
	fi
	PORT=$port
}

# utime + stime in clock ticks (fields 14 and 15; the names of our two
# servers hold no space, so awk's fields line up).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

echo "== $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(go version | cut -d' ' -f3)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== cells: sessions {$SESSIONS} x window {$WINDOWS} x receipts {$RECEIPTS}, $REPEATS rounds, -duration $DURATION -warmup $WARMUP, results in $OUT"
printf 'sessions\twindow\treceipts\tserver\tround\tsubmit_per_s\treceipt_per_s\tp50_us\tp99_us\tdlr_p99_us\tok\trefused\tmissing\tcpu_s\twall_s\thwm_kb\n' >"$OUT/runs.tsv"

run_one() { # name sessions window receipts round
	local name=$1 s=$2 w=$3 d=$4 r=$5 f="$OUT/$1-$2x$3-dlr$4-round$5.json" flags=()
	((d)) && flags=(-dlr -dlr-wait "$DLR_WAIT" -drain-wait 2s)
	start_server "$name" || return
	local user=demo pass=demopass
	[[ $name == raw ]] && user=bench pass=bench
	local c0 t0 c1 t1 bench rc
	timeout -k 5 "$CAP" ./bin/smppbench -json -port "$PORT" -user "$user" -password "$pass" \
		-sessions "$s" -window "$w" -duration "$DURATION" -warmup "$WARMUP" "${flags[@]}" >"$f" 2>"$f.err" &
	bench=$!
	# CPU counts from the end of the warm-up (binds take milliseconds) to the
	# end of the run, drains and the receipt wait included, so that CPU per
	# message divides like with like.
	sleep "$WARMUP"
	c0=$(cpu_ticks "$SERVER_PID")
	t0=$(date +%s.%N)
	wait "$bench"
	rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$SERVER_PID")
	local hwm
	hwm=$(hwm_kb "$SERVER_PID")
	stop_server
	if ((rc != 0)); then
		echo "  $name ${s}x$w receipts=$d round $r: smppbench exit $rc: $(tail -c 300 "$f.err")"
		return
	fi
	perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
		my ($name, $s, $w, $d, $r, $cpu, $wall, $hwm) = @ARGV;
		my $refused = $j->{responses} - $j->{ok};
		printf "%d\t%d\t%d\t%s\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%.2f\t%.2f\t%d\n", $s, $w, $d, $name, $r,
			$j->{submit_per_s}, $j->{receipt_per_s}, $j->{submit_resp}{p50_us}, $j->{submit_resp}{p99_us},
			$j->{submit_receipt}{p99_us}, $j->{ok}, $refused, $j->{receipts_missing}, $cpu, $wall, $hwm;
		printf STDERR "  %-5s %2dx%-3d %s round %d: %10.0f submit/s  p99 %8.1f us  refused %d  missing %d  cpu %.2f s  hwm %d KiB\n",
			$name, $s, $w, $d ? "dlr" : "   ", $r, $j->{submit_per_s}, $j->{submit_resp}{p99_us}, $refused,
			$j->{receipts_missing}, $cpu, $hwm;' \
		"$name" "$s" "$w" "$d" "$r" "$(awk "BEGIN {print ($c1 - $c0) / $TCK}")" "$(awk "BEGIN {print $t1 - $t0}")" "$hwm" \
		<"$f" >>"$OUT/runs.tsv"
}

for d in $RECEIPTS; do
	for s in $SESSIONS; do
		for w in $WINDOWS; do
			servers=(raw smppd)
			((d)) && servers=(smppd) # raw sends no receipts
			n=${#servers[@]}
			for ((r = 0; r < REPEATS; r++)); do
				for ((k = 0; k < n; k++)); do
					run_one "${servers[$(((k + r) % n))]}" "$s" "$w" "$d" "$((r + 1))"
				done
			done
		done
	done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

report "$OUT"
echo
echo "runs: $OUT/runs.tsv  table: $OUT/table.md"
