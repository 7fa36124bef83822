#!/usr/bin/env bash
# scaling.sh: how smppd's CPU per submit_sm grows with the work, one axis at
# a time, on configs/bench.toml (memory store, the sim connector answering at
# once, 20,000 binds allowed from 127.0.0.1) moved to PORT:
#
#   sessions  1 → 10,000 sessions at window 10
#   window    4 sessions at window 1 → 1,000
#   chars     4 × 100, GSM7 messages of 10 → 1,000 characters (smppbench
#             -chars: concatenated parts of 153 past 160)
#   routes    4 × 100, N static routes with dest_prefixes the destination
#             misses ahead of the default route (the prefix trie skips them)
#   scan      4 × 100, N static routes with source_addrs the sender misses
#             ahead of the default route (no index: each is tried in order)
#
#   bench/scaling.sh [axis...]      (default: sessions window chars routes scan)
#   env: PORT (2786), SHORT (1s), LONG (3s)
#
# Each point starts a fresh smppd and runs smppbench twice, SHORT then LONG;
# CPU per submit_sm is smppd's CPU time (utime + stime from /proc) over the
# difference of the two runs, so binding, start-up and drains cancel out. The
# load generator's CPU per submit_sm (of the LONG run) is printed beside it.
# Every run is capped by timeout; only the processes started here are stopped,
# by PID.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

PORT=${PORT:-2786}
SHORT=${SHORT:-1s}
LONG=${LONG:-3s}
AXES=("$@")
((${#AXES[@]})) || AXES=(sessions window chars routes scan)
OUT=$(mktemp -d)
SMPPD=""

stop() {
	[[ -n $SMPPD ]] || return 0
	kill -TERM "$SMPPD" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$SMPPD" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$SMPPD" 2>/dev/null
	wait "$SMPPD" 2>/dev/null
	SMPPD=""
}
trap 'stop; rm -rf "$OUT"' EXIT
trap 'exit 130' INT TERM

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if port_open "$PORT"; then
	echo "127.0.0.1:$PORT is already in use by a process we did not start" >&2
	exit 1
fi

mkdir -p bin
go build -o bin/smppbench ./cmd/smppbench && go build -o bin/smppd ./cmd/smppd || exit 1

# config KIND N: bench.toml on PORT with N routes of KIND (prefix | source)
# ahead of its default route.
config() {
	local kind=$1 n=$2
	mkdir -p "$OUT/cfg"
	cp configs/bench-users.toml "$OUT/cfg/"
	perl -e '
		my ($port, $kind, $n) = @ARGV;
		my $done = 0;
		while (<STDIN>) {
			s/^port = \d+/port = $port/;
			if (/^\[\[mt_route\]\]/ && !$done++) {
				for my $i (1 .. $n) {
					my $f = $kind eq "prefix" ? sprintf("dest_prefixes = [\"33%05d\"]", $i) : "source_addrs = [\"Sender$i\"]";
					print "[[mt_route]]\nname = \"r$i\"\nkind = \"static\"\nconnectors = [\"sim\"]\n$f\n\n";
				}
			}
			print;
		}' "$PORT" "$kind" "$n" <configs/bench.toml >"$OUT/cfg/smppd.toml"
}

start() {
	./bin/smppd -config "$OUT/cfg/smppd.toml" >"$OUT/smppd.log" 2>&1 &
	SMPPD=$!
	for _ in $(seq 300); do
		port_open "$PORT" && break
		kill -0 "$SMPPD" 2>/dev/null || { echo "smppd exited: $(tail -c 500 "$OUT/smppd.log")" >&2; SMPPD=""; return 1; }
		sleep 0.1
	done
	# One bind first, so that the password is hashed before anything is timed.
	timeout 30 ./bin/smppbench -port "$PORT" -user bench -password bench -idle 1 -hold 1ms >/dev/null 2>&1
}

ticks() { awk '{print $14 + $15}' "/proc/$SMPPD/stat"; }
tck=$(getconf CLK_TCK)

# run NAME DURATION smppbench-flags...: prints "submitted smppd-ticks" and
# leaves the JSON in $OUT/NAME.json and the generator's CPU in $OUT/NAME.time.
run() {
	local name=$1 dur=$2
	shift 2
	local t0 t1
	t0=$(ticks)
	timeout -k 5 120 /usr/bin/time -f "%U %S" -o "$OUT/$name.time" ./bin/smppbench -json -port "$PORT" -user bench -password bench \
		-duration "$dur" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err" || { echo "smppbench $*: $(tail -c 300 "$OUT/$name.err")" >&2; return 1; }
	t1=$(ticks)
	perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print $j->{ok} + $j->{errors} + $j->{throttled}, " '"$((t1 - t0))"'\n"' <"$OUT/$name.json"
}

# point AXIS VALUE smppbench-flags...: one line of the table.
point() {
	local axis=$1 value=$2
	shift 2
	start || return 1
	local a b
	a=$(run short "$SHORT" "$@") && b=$(run long "$LONG" "$@") || { stop; return 1; }
	stop
	perl -MJSON::PP -e '
		my ($axis, $value, $a, $b, $tck, $gen, $file) = @ARGV;
		my ($na, $ta) = split " ", $a; my ($nb, $tb) = split " ", $b;
		my ($u, $s) = split " ", $gen;
		open my $fh, "<", $file or die; local $/; my $j = decode_json(<$fh>);
		my $cpu = $nb > $na ? ($tb - $ta) / $tck / ($nb - $na) * 1e6 : 0;
		printf "%-9s %7s %12.0f %10.2f %10.2f %10.1f %5s\n", $axis, $value, $j->{submit_per_s}, $cpu,
			($u + $s) / ($nb || 1) * 1e6, $j->{submit_resp}{p99_us}, $j->{unanswered} + $j->{errors} + $j->{throttled} ? "!" : "";
	' "$axis" "$value" "$a" "$b" "$tck" "$(tail -1 "$OUT/long.time")" "$OUT/long.json"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC')  $(nproc) cores, commit $(git rev-parse --short HEAD), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== runs of $SHORT and $LONG per point; smppd CPU per submit_sm from their difference"
printf "%-9s %7s %12s %10s %10s %10s %5s\n" axis value submit_sm/s "smppd us" "bench us" "p99 us" "lost"
for axis in "${AXES[@]}"; do
	case $axis in
	sessions)
		config prefix 0
		for n in 1 10 100 1000 10000; do point sessions "$n" -sessions "$n" -window 10; done
		;;
	window)
		config prefix 0
		for w in 1 10 100 1000; do point window "$w" -sessions 4 -window "$w"; done
		;;
	chars)
		config prefix 0
		for c in 10 160 161 480 1000; do point chars "$c" -sessions 4 -window 100 -chars "$c"; done
		;;
	routes | scan)
		for n in 0 10 100 1000 10000; do
			config "$([[ $axis == routes ]] && echo prefix || echo source)" "$n"
			point "$axis" "$n" -sessions 4 -window 100
		done
		;;
	*) echo "unknown axis $axis (sessions window chars routes scan)" >&2 ;;
	esac
done
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
