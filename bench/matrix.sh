#!/usr/bin/env bash
# matrix.sh: the benchmark matrix of docs/BENCHMARKS.md, side by side in one
# run: smppbench against the raw ceiling (bench/peers/raw: answers
# submit_sm by command id, no receipts) and against smppd on the demo config
# in each storage variant bench/configs.sh writes (memory; disk with sync =
# "always", the demo's own; disk with sync = "interval" for reference), for
# every sessions x window cell, without and with registered_delivery=1,
# REPEATS rounds with the server order rotating each round, then tables of
# medians. Each run starts a fresh server on an empty data directory, so its
# CPU time (utime+stime, /proc/PID/stat) and peak RSS (VmHWM) belong to that
# run alone; the load generator's CPU is measured beside it. For the disk
# variants the store's fsyncs during the run are read from its metrics
# (smppd_storage_fsync_time_seconds_total / smppd_storage_fsyncs_total),
# and the rate fsync alone allows is printed beside the measured one:
# Little's law, sessions x window in flight over the mean fsync time; with
# the ceiling run too, also over the mean fsync plus the ceiling's round
# trip at that cell (issue 16's window-1 target: one fsync plus one round
# trip a request).
#
#   bench/matrix.sh
#   env: CELLS ("4x100 16x100 64x100 1x1 4x1 16x1 64x1"), STORES ("memory
#        disk interval": any of bench/configs.sh's variants), RAW (1: run the
#        ceiling too), RECEIPTS ("0 1"), REPEATS (3), DURATION (2s), WARMUP
#        (0.5s), DLR_WAIT (5s: a receipt later than this after the last
#        response counts as missing), CDR (on: as the demo; off), PORT_RAW
#        (2776), PORT_SMPPD (2785; admin on +6000), OUT (a new temporary
#        directory: every run's JSON, runs.tsv and table.md stay there), BIN
#        (bin), NOBUILD (1: use BIN as it is), REPORT (the OUT of an earlier
#        run: print its tables again and stop).
#
# The raw ceiling sends no receipts: the receipt tables compare smppd with
# itself. Everything listens on and talks to 127.0.0.1; the script stops
# only the servers it started, by PID, and caps every smppbench run with
# `timeout`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

CELLS=${CELLS:-"4x100 16x100 64x100 1x1 4x1 16x1 64x1"}
STORES=${STORES:-"memory disk interval"}
RAW=${RAW:-1}
RECEIPTS=${RECEIPTS:-"0 1"}
REPEATS=${REPEATS:-3}
DURATION=${DURATION:-2s}
WARMUP=${WARMUP:-0.5s}
DLR_WAIT=${DLR_WAIT:-5s}
PORT_RAW=${PORT_RAW:-2776}
PORT_SMPPD=${PORT_SMPPD:-2785}
PORT_ADMIN=$((PORT_SMPPD + 6000))
BIN=${BIN:-bin}
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
		open my $fh, "<", $tsv or die "$tsv: $!";
		my $hdr = <$fh>; chomp $hdr; my @h = split /\t/, $hdr;
		my (%v, %seen, @cells, %srv);
		while (<$fh>) {
			chomp; my %r; @r{@h} = split /\t/;
			my $c = "$r{sessions}x$r{window}"; push @cells, $c unless $seen{$c}++;
			$srv{$r{server}} = 1;
			push @{$v{$r{receipts}}{$c}{$r{server}}{$_}}, $r{$_} for @h;
		}
		sub med { my @v = sort { $a <=> $b } grep { defined && $_ ne "" } @_; return undef unless @v; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
		sub md { my ($d, $c, $n, $k) = @_; med(@{$v{$d}{$c}{$n}{$k} // []}) }
		sub runs { my ($d, $c, $n) = @_; scalar @{$v{$d}{$c}{$n}{submit_per_s} // []} }
		sub us { my $u = shift; return "-" unless defined $u && $u > 0;
			$u >= 1e6 ? sprintf("%.2f s", $u / 1e6) : $u >= 1000 ? sprintf("%.2f ms", $u / 1000) : sprintf("%.0f µs", $u) }
		sub num { my $x = shift; return "-" unless defined $x; my $t = sprintf("%.0f", $x); 1 while $t =~ s/^(\d+)(\d{3})/$1,$2/; $t }
		sub pct { my ($a, $b) = @_; defined $a && $b ? sprintf("%.0f%%", 100 * $a / $b) : "-" }
		# CPU per OK submit (µs) of the server and of the load generator.
		sub cpu { my ($d, $c, $n, $col) = @_; my ($cs, $ok) = (md($d, $c, $n, $col), md($d, $c, $n, "ok"));
			defined $cs && $ok ? sprintf("%.1f", 1e6 * $cs / $ok) : "-" }
		sub rss { my $k = md(@_, "hwm_kb"); defined $k ? sprintf("%.1f", $k / 1024) : "-" }
		my @stores = grep { $_ ne "raw" && $srv{$_} } qw(memory disk interval never), sort keys %srv;
		my %u; @stores = grep { !$u{$_}++ } @stores;
		my $base = $srv{memory} ? "memory" : $stores[0];
		for my $d (sort keys %v) {
			my @ss = $d ? @stores : (($srv{raw} ? ("raw") : ()), @stores);
			print $d ? "\n### With registered_delivery=1 (medians; the ceiling sends no receipts)\n\n"
				: "\n### Without receipts (medians; % of the ceiling = smppd ÷ raw, same cell, same rounds)\n\n";
			my @col = ("sessions × window");
			for my $s (@ss) {
				push @col, "$s submit/s" . ($s eq "raw" ? "" : $d ? " (% of $s without receipts)" : ($srv{raw} ? " (% of raw)" : ""));
			}
			push @col, "disk ÷ $base" if $srv{disk} && $base ne "disk";
			push @col, "fsync mean → bound (disk ÷ bound)" if $srv{disk};
			push @col, "fsync + raw round trip → bound (disk ÷ bound)" if $srv{disk} && $srv{raw};
			push @col, "p99 submit→resp: " . join(" / ", @ss);
			push @col, "p99 submit→receipt: " . join(" / ", @ss) if $d;
			push @col, "receipts missing" if $d;
			push @col, "CPU µs/msg: " . join(" / ", @ss), "smppbench CPU µs/msg", "peak RSS MiB: " . join(" / ", grep { $_ ne "raw" } @ss), "runs";
			print "| ", join(" | ", @col), " |\n|", "---|" x @col, "\n";
			for my $c (@cells) {
				next unless $v{$d}{$c};
				my @row = ($c);
				for my $s (@ss) {
					my $r = md($d, $c, $s, "submit_per_s");
					my $x = $s eq "raw" ? "" : $d ? " (" . pct($r, md(0, $c, $s, "submit_per_s")) . ")" : ($srv{raw} ? " (" . pct($r, md(0, $c, "raw", "submit_per_s")) . ")" : "");
					push @row, num($r) . $x;
				}
				push @row, pct(md($d, $c, "disk", "submit_per_s"), md($d, $c, $base, "submit_per_s")) if $srv{disk} && $base ne "disk";
				if ($srv{disk}) {
					my ($fm, $rate) = (md($d, $c, "disk", "fsync_mean_us"), md($d, $c, "disk", "submit_per_s"));
					my ($s, $w) = split /x/, $c;
					my $bound = $fm && $fm > 0 ? $s * $w / ($fm / 1e6) : undef;
					push @row, $bound ? sprintf("%s → %s (%s)", us($fm), num($bound), pct($rate, $bound)) : "-";
					if ($srv{raw}) {
						# The window-1 bound of issue 16: a request costs one fsync
						# plus one round trip, that of the ceiling at this cell.
						my $raw = md(0, $c, "raw", "submit_per_s");
						my $rt = $raw && $raw > 0 ? $s * $w / $raw : undef;
						my $b2 = $fm && $fm > 0 && defined $rt ? $s * $w / ($fm / 1e6 + $rt) : undef;
						push @row, $b2 ? sprintf("%s + %s → %s (%s)", us($fm), us($rt * 1e6), num($b2), pct($rate, $b2)) : "-";
					}
				}
				push @row, join(" / ", map { us(md($d, $c, $_, "p99_us")) } @ss);
				push @row, join(" / ", map { us(md($d, $c, $_, "dlr_p99_us")) } @ss) if $d;
				push @row, join(" / ", map { num(md($d, $c, $_, "missing")) } @ss) if $d;
				push @row, join(" / ", map { cpu($d, $c, $_, "cpu_s") } @ss);
				push @row, join(" / ", map { cpu($d, $c, $_, "bench_cpu_s") } @ss);
				push @row, join(" / ", map { rss($d, $c, $_) } grep { $_ ne "raw" } @ss);
				push @row, join("+", map { runs($d, $c, $_) } @ss);
				print "| ", join(" | ", @row), " |\n";
			}
		}' "$1/runs.tsv" | tee "$1/table.md"
}
if [[ -n ${REPORT:-} ]]; then
	report "$REPORT"
	exit
fi

if [[ ${NOBUILD:-0} != 1 ]]; then
	echo "== building into $BIN"
	mkdir -p "$BIN"
	go build -o "$BIN/smppbench" ./cmd/smppbench && go build -o "$BIN/smppbench-raw" ./bench/peers/raw &&
		CGO_ENABLED=0 go build -o "$BIN/smppd" ./cmd/smppd || exit 1 # static, as make build
fi
for p in "$PORT_RAW" "$PORT_SMPPD" "$PORT_ADMIN"; do
	if port_open "$p"; then
		echo "127.0.0.1:$p is already in use by a process we did not start; stop it first" >&2
		exit 1
	fi
done
# shellcheck disable=SC2086 # STORES is a list
bash bench/configs.sh "$OUT/cfg" "$PORT_SMPPD" $STORES || exit 1

# start_server name: starts it on an empty data directory, waits for its
# port, and for smppd binds once so that the password is hashed before the
# measured CPU starts.
start_server() {
	local name=$1 port
	if [[ $name == raw ]]; then
		port=$PORT_RAW
		"$BIN/smppbench-raw" -addr "127.0.0.1:$port" >"$OUT/server.log" 2>&1 &
	else
		port=$PORT_SMPPD
		rm -rf "$OUT/cfg/$name/var"
		"$BIN/smppd" -config "$OUT/cfg/$name/smppd.toml" >"$OUT/server.log" 2>&1 &
	fi
	SERVER_PID=$!
	for _ in $(seq 100); do
		port_open "$port" && break
		kill -0 "$SERVER_PID" 2>/dev/null || { echo "$name exited: $(tail -c 500 "$OUT/server.log")" >&2; return 1; }
		sleep 0.1
	done
	if [[ $name != raw ]]; then
		timeout 30 "$BIN/smppbench" -port "$port" -user demo -password demopass -idle 1 -hold 1ms >/dev/null 2>&1
	fi
	PORT=$port
}

# utime + stime in clock ticks (fields 14 and 15; the names of our two
# servers hold no space, so awk's fields line up).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# fsyncs: "count seconds" from the admin API's metrics (disk variants).
fsyncs() {
	curl -s --max-time 2 "http://127.0.0.1:$PORT_ADMIN/metrics" |
		awk '/^smppd_storage_fsyncs_total / {n=$2} /^smppd_storage_fsync_time_seconds_total / {s=$2} END {print n+0, s+0}'
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(go version | cut -d' ' -f3), commit $(git rev-parse --short HEAD 2>/dev/null)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== cells {$CELLS} x receipts {$RECEIPTS}, servers {$( ((RAW)) && echo "raw ")$STORES}, CDR ${CDR:-on}, $REPEATS rounds, -duration $DURATION -warmup $WARMUP, results in $OUT"
printf 'sessions\twindow\treceipts\tserver\tround\tsubmit_per_s\treceipt_per_s\tp50_us\tp99_us\tdlr_p99_us\tok\trefused\tmissing\tcpu_s\twall_s\thwm_kb\tbench_cpu_s\tfsync_mean_us\n' >"$OUT/runs.tsv"

run_one() { # name sessions window receipts round
	local name=$1 s=$2 w=$3 d=$4 r=$5 f="$OUT/$1-$2x$3-dlr$4-round$5.json" flags=()
	((d)) && flags=(-dlr -dlr-wait "$DLR_WAIT" -drain-wait 2s)
	start_server "$name" || return
	local user=demo pass=demopass
	[[ $name == raw ]] && user=bench pass=bench
	local c0 t0 c1 t1 f0=(0 0) f1=(0 0) bench rc
	# perl waits for smppbench and reports its CPU (times: the children's).
	timeout -k 5 "$CAP" perl -e 'system(@ARGV); my @t = times; printf STDERR "BENCHCPU %.3f\n", $t[2] + $t[3]; exit($? >> 8)' -- \
		"$BIN/smppbench" -json -port "$PORT" -user "$user" -password "$pass" \
		-sessions "$s" -window "$w" -duration "$DURATION" -warmup "$WARMUP" "${flags[@]}" >"$f" 2>"$f.err" &
	bench=$!
	# Server CPU and fsyncs count from the end of the warm-up (binds take
	# milliseconds) to the end of the run, drains and the receipt wait
	# included, so that CPU per message divides like with like.
	sleep "$WARMUP"
	c0=$(cpu_ticks "$SERVER_PID")
	[[ $name != raw && $name != memory ]] && read -ra f0 <<<"$(fsyncs)"
	t0=$(date +%s.%N)
	wait "$bench"
	rc=$?
	t1=$(date +%s.%N)
	c1=$(cpu_ticks "$SERVER_PID")
	[[ $name != raw && $name != memory ]] && read -ra f1 <<<"$(fsyncs)"
	local hwm
	hwm=$(hwm_kb "$SERVER_PID")
	stop_server
	if ((rc != 0)); then
		echo "  $name ${s}x$w receipts=$d round $r: smppbench exit $rc: $(tail -c 300 "$f.err")"
		return
	fi
	perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
		my ($name, $s, $w, $d, $r, $cpu, $wall, $hwm, $bcpu, $fn, $fs) = @ARGV;
		my $refused = $j->{responses} - $j->{ok};
		my $fm = $fn > 0 ? 1e6 * $fs / $fn : "";
		printf "%d\t%d\t%d\t%s\t%d\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%.2f\t%.2f\t%d\t%.2f\t%s\n", $s, $w, $d, $name, $r,
			$j->{submit_per_s}, $j->{receipt_per_s}, $j->{submit_resp}{p50_us}, $j->{submit_resp}{p99_us},
			$j->{submit_receipt}{p99_us}, $j->{ok}, $refused, $j->{receipts_missing}, $cpu, $wall, $hwm, $bcpu,
			$fm eq "" ? "" : sprintf("%.1f", $fm);
		printf STDERR "  %-8s %2dx%-3d %s round %d: %10.0f submit/s  p99 %8.1f us  refused %d  missing %d  cpu %.2f s (bench %.2f s)  hwm %d KiB%s\n",
			$name, $s, $w, $d ? "dlr" : "   ", $r, $j->{submit_per_s}, $j->{submit_resp}{p99_us}, $refused,
			$j->{receipts_missing}, $cpu, $bcpu, $hwm, $fm eq "" ? "" : sprintf("  fsync mean %.0f us (%d)", $fm, $fn);' \
		"$name" "$s" "$w" "$d" "$r" "$(awk "BEGIN {print ($c1 - $c0) / $TCK}")" "$(awk "BEGIN {print $t1 - $t0}")" "$hwm" \
		"$(sed -n 's/^BENCHCPU //p' "$f.err")" "$((f1[0] - f0[0]))" "$(awk "BEGIN {print ${f1[1]} - ${f0[1]}}")" \
		<"$f" >>"$OUT/runs.tsv"
}

for d in $RECEIPTS; do
	for cell in $CELLS; do
		s=${cell%x*} w=${cell#*x}
		# shellcheck disable=SC2206 # STORES is a list
		servers=($STORES)
		((RAW && !d)) && servers=(raw "${servers[@]}") # raw sends no receipts
		n=${#servers[@]}
		for ((r = 0; r < REPEATS; r++)); do
			for ((k = 0; k < n; k++)); do
				run_one "${servers[$(((k + r) % n))]}" "$s" "$w" "$d" "$((r + 1))"
			done
		done
	done
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

report "$OUT"
echo
echo "runs: $OUT/runs.tsv  table: $OUT/table.md"
