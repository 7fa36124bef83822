#!/usr/bin/env bash
# compare.sh: smppbench against the raw ceiling, the Go gosmpp peer, the npm
# smpp peer, the Perl Net::SMPP peer and smppd, with the same parameters,
# interleaved (the order rotates each round), REPEATS rounds, then the table
# of medians with smppd's ratio to each.
#
#   bench/peers/compare.sh [smppbench flags...]
#   default flags: -sessions 4 -window 100 -duration 5s -warmup 1s
#   env: REPEATS (3), PEERS ("raw gosmpp npm perl smppd"), PORT_RAW (2776),
#        PORT_NPM (2777), PORT_PERL (2778), PORT_GOSMPP (2784); smppd listens
#        where configs/smppd.toml says (127.0.0.1:2775). smppd-memory and
#        smppd-disk are the demo config in bench/configs.sh's memory and
#        disk (sync = "always") variants on PORT_SMPPD_MEMORY (2780) and
#        PORT_SMPPD_DISK (2781), admin/HTTP/TLS ports moved as configs.sh says.
#
# Every smppbench run is capped by `timeout`; the script stops only the
# processes it started (by PID; the Perl peer by its own process group,
# since it forks per connection).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

REPEATS=${REPEATS:-3}
PEERS=${PEERS:-"raw gosmpp npm perl smppd"}
PORT_RAW=${PORT_RAW:-2776}
PORT_NPM=${PORT_NPM:-2777}
PORT_PERL=${PORT_PERL:-2778}
PORT_GOSMPP=${PORT_GOSMPP:-2784}
PORT_SMPPD_MEMORY=${PORT_SMPPD_MEMORY:-2780}
PORT_SMPPD_DISK=${PORT_SMPPD_DISK:-2781}
PORT_SMPPD=2775
ARGS=("$@")
if ((${#ARGS[@]} == 0)); then
	ARGS=(-sessions 4 -window 100 -duration 5s -warmup 1s)
fi
OUT=$(mktemp -d)
PIDS=()
PGIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for g in "${PGIDS[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
	for _ in $(seq 50); do # smppd drains for up to shutdown_grace; give 5s
		local alive=0
		for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for g in "${PGIDS[@]}"; do kill -KILL -- "-$g" 2>/dev/null; done
	rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { # port seconds
	for _ in $(seq $(($2 * 10))); do
		port_busy "$1" && return 0
		sleep 0.1
	done
	return 1
}

# How long one run may take: the -duration and -warmup given, plus drains.
secs() { local v=$1; case $v in *ms) echo 1 ;; *s) echo "${v%s}" | cut -d. -f1 ;; *m) echo $((${v%m} * 60)) ;; *) echo 10 ;; esac; }
dur=10 warm=0 dlr=0
for ((i = 0; i < ${#ARGS[@]}; i++)); do
	case ${ARGS[i]} in
	-duration) dur=$(secs "${ARGS[i + 1]}") ;;
	-warmup) warm=$(secs "${ARGS[i + 1]}") ;;
	-dlr | -dlr=true) dlr=1 ;;
	esac
done
CAP=$((dur + warm + 40))

echo "== building"
mkdir -p bin
go build -o bin/smppbench ./cmd/smppbench || exit 1
go build -o bin/smppbench-raw ./bench/peers/raw || exit 1
# Its own module (bench/peers/gosmpp/go.mod): the product's go.mod stays clean.
have_gosmpp=0
if (cd bench/peers/gosmpp && go build -o ../../../bin/smppbench-gosmpp .) 2>"$OUT/gosmpp-build.log"; then
	have_gosmpp=1
else
	echo "gosmpp: does not build ($(head -c 300 "$OUT/gosmpp-build.log"))"
fi
have_smppd=0
if [[ -d cmd/smppd ]] && go build -o bin/smppd ./cmd/smppd 2>"$OUT/smppd-build.log"; then
	have_smppd=1
else
	echo "smppd: does not build yet, skipped ($(head -c 300 "$OUT/smppd-build.log"))"
fi
if [[ ! -d bench/peers/npm/node_modules/smpp ]]; then
	(cd bench/peers/npm && npm ci --no-audit --no-fund --loglevel=error) || echo "npm: install failed"
fi

declare -A PORT USER PASS
started=()
start() { # name port cmd...
	local name=$1 port=$2
	shift 2
	if port_busy "$port"; then
		echo "$name: 127.0.0.1:$port is already in use (not ours), skipped"
		return
	fi
	if [[ $name == perl ]]; then
		setsid "$@" >"$OUT/$name.log" 2>&1 &
		PGIDS+=($!)
	else
		"$@" >"$OUT/$name.log" 2>&1 &
		PIDS+=($!)
	fi
	if wait_port "$port" 10; then
		started+=("$name")
		PORT[$name]=$port
	else
		echo "$name: did not listen on $port within 10s, skipped: $(tail -c 300 "$OUT/$name.log")"
	fi
}

for p in $PEERS; do
	case $p in
	raw)
		if ((dlr)); then echo "raw: sends no receipts, skipped with -dlr"; continue; fi
		start raw "$PORT_RAW" ./bin/smppbench-raw -addr "127.0.0.1:$PORT_RAW"
		;;
	gosmpp)
		if ((have_gosmpp)); then
			start gosmpp "$PORT_GOSMPP" ./bin/smppbench-gosmpp -addr "127.0.0.1:$PORT_GOSMPP"
		fi
		;;
	npm)
		if [[ -d bench/peers/npm/node_modules/smpp ]]; then
			start npm "$PORT_NPM" node bench/peers/npm/server.js "$PORT_NPM" 127.0.0.1
		else
			echo "npm: smpp package not installed, skipped"
		fi
		;;
	perl)
		if perl -MNet::SMPP -e1 2>/dev/null; then
			start perl "$PORT_PERL" perl bench/peers/perl/server.pl "$PORT_PERL" 127.0.0.1
		else
			echo "perl: Net::SMPP missing (apt-get install libnet-smpp-perl), skipped"
		fi
		;;
	smppd)
		if ((have_smppd)); then
			start smppd "$PORT_SMPPD" ./bin/smppd -config configs/smppd.toml
			USER[smppd]=demo PASS[smppd]=demopass
		fi
		;;
	smppd-memory | smppd-disk)
		if ((have_smppd)); then
			v=${p#smppd-} port=PORT_SMPPD_${v^^}
			bash bench/configs.sh "$OUT/cfg" "${!port}" "$v" || continue
			start "$p" "${!port}" ./bin/smppd -config "$OUT/cfg/$v/smppd.toml"
			USER[$p]=demo PASS[$p]=demopass
		fi
		;;
	*) echo "unknown peer $p" ;;
	esac
done
((${#started[@]})) || { echo "nothing to measure"; exit 1; }

echo "== smppbench ${ARGS[*]}  ($REPEATS rounds over: ${started[*]}; each run capped at ${CAP}s)"
n=${#started[@]}
for ((r = 0; r < REPEATS; r++)); do
	for ((k = 0; k < n; k++)); do
		name=${started[$(((k + r) % n))]}
		f="$OUT/$name.$r.json"
		timeout -k 5 "$CAP" ./bin/smppbench -json -port "${PORT[$name]}" \
			-user "${USER[$name]:-bench}" -password "${PASS[$name]:-bench}" "${ARGS[@]}" >"$f" 2>"$OUT/$name.$r.err"
		rc=$?
		if ((rc != 0)); then
			echo "round $((r + 1)) $name: smppbench exit $rc: $(tail -c 300 "$OUT/$name.$r.err")"
			rm -f "$f"
			continue
		fi
		perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>);
			printf "round %d %-12s %12.0f submit_sm/s  p50 %8.1f us  p99 %9.1f us  receipts %d/%d\n",
				$ARGV[0], $ARGV[1], $j->{submit_per_s}, $j->{submit_resp}{p50_us}, $j->{submit_resp}{p99_us},
				$j->{receipts_matched}, $j->{receipts_matched} + $j->{receipts_missing}' "$((r + 1))" "$name" <"$f"
	done
done

echo "== medians of $REPEATS rounds: smppbench ${ARGS[*]}"
perl -MJSON::PP -e '
	my ($dir, @names) = @ARGV;
	sub med { my @v = sort { $a <=> $b } @_; return 0 unless @v; @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2 }
	my (%rate, %p50, %p99, %p999, %rr, %lost);
	for my $n (@names) {
		for my $f (glob "$dir/$n.*.json") {
			open my $fh, "<", $f or next; local $/; my $j = eval { decode_json(<$fh>) } or next;
			push @{$rate{$n}}, $j->{submit_per_s}; push @{$p50{$n}}, $j->{submit_resp}{p50_us};
			push @{$p99{$n}}, $j->{submit_resp}{p99_us}; push @{$p999{$n}}, $j->{submit_resp}{p99_9_us};
			push @{$rr{$n}}, $j->{receipt_per_s}; push @{$lost{$n}}, $j->{receipts_missing};
		}
	}
	my $ceil = med(@{$rate{raw} // []});
	# smppd ÷ server: the first smppd started (smppd, smppd-memory, smppd-disk).
	my ($ref) = grep { /^smppd/ && $rate{$_} } @names;
	my $base = $ref ? med(@{$rate{$ref}}) : 0;
	printf "%-12s %5s %14s %10s %10s %11s %12s %9s %9s %9s\n", "server", "runs", "submit_sm/s", "p50 us", "p99 us", "p99.9 us", "receipts/s", "lost", "vs raw",
		$ref ? "$ref÷" : "";
	for my $n (@names) {
		my $runs = scalar @{$rate{$n} // []};
		if (!$runs) { printf "%-12s %5d  (no successful run)\n", $n, 0; next }
		my $m = med(@{$rate{$n}});
		printf "%-12s %5d %14.0f %10.1f %10.1f %11.1f %12.0f %9d %9s %9s\n", $n, $runs, $m, med(@{$p50{$n}}), med(@{$p99{$n}}),
			med(@{$p999{$n}}), med(@{$rr{$n}}), med(@{$lost{$n}}), $ceil ? sprintf("%.1f%%", 100 * $m / $ceil) : "-",
			$base && $m ? sprintf("%.2f", $base / $m) : "-";
	}' "$OUT" "${started[@]}"
