# bench/lib.sh: what the A/B scripts (abstore.sh, memab.sh, cdrab.sh,
# moab.sh; stop also liverss.sh) share, sourced after they set PORT (and
# liverss.sh ADMIN and OUT): their set-up (ab_setup), the NAME=BIN_DIR
# builds, the port checks, one smppd at a time started and stopped by its
# PID (its log kept, an early exit reported), CPU ticks.
# shellcheck shell=bash

# ab_builds NAME=BIN_DIR...: names, dirs; smppbench from the first build.
ab_builds() {
	names=() dirs=()
	for a in "$@"; do names+=("${a%%=*}") dirs+=("${a#*=}"); done
	BENCH=${dirs[0]}/smppbench
}

# ab_setup NAME NAME=BIN_DIR...: what every A/B script does first: ADMIN
# (PORT + 6000), OUT (a new /tmp/smppd-NAME.* unless set), TCK, the builds,
# the ports checked free, and bench/configs.sh's STORES variants of the
# demo config in OUT/cfg (CDR from the environment, as configs.sh reads it).
ab_setup() {
	local name=$1
	shift
	ADMIN=$((PORT + 6000))
	OUT=${OUT:-$(mktemp -d "/tmp/smppd-$name.XXXXXX")}
	TCK=$(getconf CLK_TCK)
	mkdir -p "$OUT"
	ab_builds "$@"
	ports_free
	# shellcheck disable=SC2086 # STORES is a list
	bash bench/configs.sh "$OUT/cfg" "$PORT" $STORES || exit 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ports_free exits when PORT, ADMIN or the HTTP API's PORT+7000 (on in
# the demo config) is taken: never measure a server this script did not
# start. A PORT 1000 above another script's has its ADMIN on that one's
# HTTP API: whichever smppd starts second cannot listen and exits.
ports_free() {
	local p
	for p in "$PORT" "$ADMIN" "$((PORT + 7000))"; do
		port_open "$p" && { echo "127.0.0.1:$p is in use by a process we did not start" >&2; exit 1; }
	done
}

PID= RUN=0 SLOG=
# stop ends the smppd started last: SIGTERM, SIGKILL after 10 s. A server
# that had exited on its own before stop, or whose exit status is not 0,
# is reported on stderr with its log's tail; its log stays in OUT.
stop() {
	[[ -n $PID ]] || return 0
	local gone=0 rc
	kill -0 "$PID" 2>/dev/null || gone=1
	kill -TERM "$PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	rc=$?
	PID=
	((gone || rc)) || return 0
	{
		if ((gone)); then echo "== smppd (run $RUN) exited on its own with status $rc before it was stopped; ${SLOG:-$OUT/server.log} ends:"
		else echo "== smppd (run $RUN) exited with status $rc when stopped; ${SLOG:-$OUT/server.log} ends:"; fi
		tail -n 40 "${SLOG:-$OUT/server.log}"
	} >&2
}
trap stop EXIT
trap 'exit 130' INT TERM

# start_smppd BIN_DIR CONFIG [NAME]: smppd in the background (PID), its
# output in OUT/NAME.log (server-RUN.log: every run numbered, none
# overwritten; OUT/server.log links to the last), once its port answers a
# bind has paid the password hash, outside the measured part. The ports
# are checked free again first (another server may have taken them since
# the last run), and a smppd gone by the time its port answered a bind
# ends the script: what answered is not ours.
start_smppd() {
	ports_free
	RUN=$((RUN + 1))
	SLOG=$OUT/${3:-server-$RUN}.log
	ln -sfn "$(basename "$SLOG")" "$OUT/server.log"
	"$1/smppd" -config "$2" >"$SLOG" 2>&1 &
	PID=$!
	for _ in $(seq 100); do port_open "$PORT" && break; kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	# Checked again after the first bind: smppd listens on its SMPP port
	# before the admin and HTTP ones, and exits when one of those is taken.
	kill -0 "$PID" 2>/dev/null && timeout 30 "$BENCH" -port "$PORT" -idle 1 -hold 1ms >/dev/null 2>&1
	if ! kill -0 "$PID" 2>/dev/null; then
		stop
		echo "smppd did not start (run $RUN, $SLOG); stopping here" >&2
		exit 1
	fi
}

# cpu_ticks PID: user + system clock ticks so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
