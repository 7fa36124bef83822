#!/usr/bin/env bash
# configs.sh: the demo config (configs/smppd.toml, what `make run` starts)
# in the storage variants the benchmark matrix compares, written to
# DIR/<variant>/smppd.toml beside a copy of its users file:
#
#   memory    [storage] kind = "memory", max_records = 50000 (a crash loses all)
#   disk      kind = "disk", sync = "always" (the demo's own storage)
#   interval  kind = "disk", sync = "interval", sync_interval = 10ms
#   never     kind = "disk", sync = "never" (the log's write(2) alone)
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
for v in "$@"; do
	case $v in
	memory) storage='kind = "memory"\nmax_records = 50000' ;;
	disk) storage='kind = "disk"\ndir = "var"\nsync = "always"' ;;
	interval) storage='kind = "disk"\ndir = "var"\nsync = "interval"\nsync_interval = "10ms"' ;;
	never) storage='kind = "disk"\ndir = "var"\nsync = "never"' ;;
	*)
		echo "configs.sh: unknown variant $v (memory | disk | interval | never)" >&2
		exit 2
		;;
	esac
	mkdir -p "$dir/$v"
	cp configs/users.toml "$dir/$v/users.toml"
	# Section-aware: the storage keys of [storage] are replaced, each
	# section's port moved; comments and other keys stay as the demo has them.
	perl -e '
		my ($port, $storage, $cdr) = @ARGV[0 .. 2]; $storage =~ s/\\n/\n/g;
		my %off = ("smpp-server" => 0, "admin" => 6000, "http-api" => 7000, "smpp-server.tls" => 8000);
		my $sec = "";
		while (<STDIN>) {
			if (/^\[\[?([^\]]+)\]\]?/) { $sec = $1; print; print "$storage\n" if $sec eq "storage"; next }
			if ($sec eq "storage" && /^(kind|dir|sync|sync_interval|max_records|max_upstream_ids)\s*=/) { next }
			if ($sec eq "cdr" && /^enabled\s*=/) { print "enabled = ", ($cdr eq "on" ? "true" : "false"), "\n"; next }
			if ($sec eq "cdr" && /^dir\s*=/) { print "dir = \"var/cdr\"\n"; next }
			if (exists $off{$sec} && /^port\s*=\s*\d+(.*)$/s) { print "port = ", $port + $off{$sec}, "$1"; next }
			print;
		}' "$port" "$storage" "$cdr" <configs/smppd.toml >"$dir/$v/smppd.toml"
done
