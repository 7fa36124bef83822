#!/usr/bin/env bash
# configs.sh: the demo config (configs/smppd.toml, what `make run` starts)
# in the storage variants the benchmark matrix compares, written to
# DIR/<variant>/smppd.toml beside a copy of its users file:
#
#   memory    [storage] kind = "memory", max_records = 50000 (a crash loses all)
#   disk      kind = "disk", sync = "always" (the demo's own storage)
#   interval  kind = "disk", sync = "interval", sync_interval = 10ms
#   never     kind = "disk", sync = "never" (the log's write(2) alone)
#   policy    memory, with the traffic policy of issue 20's speed setting
#             (docs/POLICY.md): normalisation, a 1,000,000-entry block list,
#             100 prefix and exact rules, 10 anchored dest_regex rules, a
#             rule tagging every message; smppbench's messages pass it all
#
# Everything else is the demo's, CDRs included: with memory, whose store
# has no data directory, [cdr] dir is set to DIR/memory/var/cdr so that
# both kinds write them (CDR=off turns them off in every variant, to
# measure the message path without them). The ports move (SMPP PORT, admin PORT+6000,
# HTTP API PORT+7000, TLS PORT+8000) so a running `make run` is not in the
# way, and dir is DIR/<variant>/var, emptied by the caller before each run.
#
#   bench/configs.sh DIR PORT variant...    env: CDR (on | off)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 port=$2
shift 2
cdr=${CDR:-on}
[[ $cdr == on || $cdr == off ]] || { echo "configs.sh: CDR=$cdr (on | off)" >&2; exit 2; }
# The moved listeners must stay below the kernel's ephemeral range: a port in
# it can already be taken by some outgoing connection, and the run then fails
# to bind, or binds and collides later.
if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
	if ((port + 8000 >= eph_lo)); then
		echo "configs.sh: PORT=$port puts the TLS listener at $((port + 8000)), in the ephemeral range from $eph_lo; use a PORT below $((eph_lo - 8000))" >&2
		exit 2
	fi
fi
# speed_policy DIR: the policy variant's policy.toml and blocked.txt.
speed_policy() {
	awk 'BEGIN { for (i = 0; i < 1000000; i++) printf "4916%08d\n", i * 7 }' >"$1/blocked.txt"
	{
		printf '[[normalise]]\ncountry_code = "49"\n\n'
		printf '[[list]]\nname = "blocked"\nkind = "block"\nfield = "dest"\nfile = "blocked.txt"\n\n'
		for i in $(seq 0 99); do
			if ((i % 2 == 0)); then
				printf '[[rule]]\nname = "p%d"\ndest_prefixes = ["33%02d"]\nreject = "ESME_RINVDSTADR"\n\n' "$i" "$i"
			else
				printf '[[rule]]\nname = "e%d"\nsource_addrs = ["Sender%d"]\ndest_prefixes = ["4917%02d"]\nset_priority = 1\n\n' "$i" "$i" "$i"
			fi
		done
		for i in $(seq 0 9); do
			printf '[[rule]]\nname = "re%d"\ndest_regex = "^4477%d[0-9]+$"\nset_tags = ["uk"]\n\n' "$i" "$i"
		done
		printf '[[rule]]\nname = "tag-all"\nset_tags = ["all"]\n'
	} >"$1/policy.toml"
}

for v in "$@"; do
	case $v in
	memory) storage='kind = "memory"\nmax_records = 50000' ;;
	disk) storage='kind = "disk"\ndir = "var"\nsync = "always"' ;;
	interval) storage='kind = "disk"\ndir = "var"\nsync = "interval"\nsync_interval = "10ms"' ;;
	never) storage='kind = "disk"\ndir = "var"\nsync = "never"' ;;
	policy) storage='kind = "memory"\nmax_records = 50000' ;;
	*)
		echo "configs.sh: unknown variant $v (memory | disk | interval | never | policy)" >&2
		exit 2
		;;
	esac
	mkdir -p "$dir/$v"
	cp configs/users.toml "$dir/$v/users.toml"
	pol=""
	if [[ $v == policy ]]; then
		pol=policy.toml
		speed_policy "$dir/$v"
	fi
	# Section-aware: the storage keys of [storage] are replaced, each
	# section's port moved; comments and other keys stay as the demo has them.
	perl -e '
		my ($port, $storage, $cdr, $pol) = @ARGV[0 .. 3]; $storage =~ s/\\n/\n/g;
		my %off = ("smpp-server" => 0, "admin" => 6000, "http-api" => 7000, "smpp-server.tls" => 8000);
		my $sec = "";
		while (<STDIN>) {
			if (/^\[\[?([^\]]+)\]\]?/) { $sec = $1; print; print "$storage\n" if $sec eq "storage"; next }
			if ($sec eq "storage" && /^(kind|dir|sync|sync_interval|max_records|max_upstream_ids)\s*=/) { next }
			if ($sec eq "cdr" && /^enabled\s*=/) { print "enabled = ", ($cdr eq "on" ? "true" : "false"), "\n"; next }
			if ($sec eq "cdr" && /^dir\s*=/) { print "dir = \"var/cdr\"\n"; next }
			if ($sec eq "policy" && $pol ne "" && /^file\s*=(.*)$/s) { print "file = \"$pol\"\n"; next }
			if (exists $off{$sec} && /^port\s*=\s*\d+(.*)$/s) { print "port = ", $port + $off{$sec}, "$1"; next }
			print;
		}' "$port" "$storage" "$cdr" "$pol" <configs/smppd.toml >"$dir/$v/smppd.toml"
done
