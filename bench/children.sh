# children.sh: sourced by the bench scripts that start smppd (and
# smppbench) themselves. They keep the PIDs in SMPPD and BENCH.
#
# stop_children: TERM to both, up to 10 s for them to go, then KILL; only
# the PIDs this script started.
stop_children() {
	local p
	for p in $BENCH $SMPPD; do kill -TERM "$p" 2>/dev/null; done
	for _ in $(seq 100); do
		local alive=0
		for p in $BENCH $SMPPD; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for p in $BENCH $SMPPD; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
}

# wait_smppd PORT LOG: up to 10 s for smppd's SMPP port to answer; exits
# the script with LOG's tail when smppd is gone first.
wait_smppd() {
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		kill -0 "$SMPPD" 2>/dev/null || { echo "smppd exited: $(tail -c 500 "$2")" >&2; exit 1; }
		sleep 0.1
	done
}
