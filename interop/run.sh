#!/usr/bin/env bash
# Interop suite: builds smppd, starts it on a private copy of configs/ (own
# ports, see lib.sh), runs each third-party client's suite against it, and
# ends with "N passed, M failed". Stops everything it started, by PID.
#
# Usage: interop/run.sh [npm|perl|gosmpp|kannel ...]   (default: all four)
# Env:   INTEROP_PORT_BASE  first port to use (default 27750; smppd takes
#                           BASE.., Kannel BASE+20..BASE+23)
#        INTEROP_KEEP=1     keep the work dir (configs, logs) for a look
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=interop/lib.sh
. interop/lib.sh

all=(npm perl gosmpp kannel)
clients=("$@")
((${#clients[@]})) || clients=("${all[@]}")
for c in "${clients[@]}"; do
	if [[ ! -f interop/$c/run.sh ]]; then
		echo "unknown client '$c' (have: ${all[*]})" >&2
		exit 2
	fi
done

started=$SECONDS
base=${INTEROP_PORT_BASE:-27750}
work=$(mktemp -d "${TMPDIR:-/tmp}/smppd-interop.XXXXXX")
smppd_pid=""
cleanup() {
	stop_pid "$smppd_pid" 15
	if [[ ${INTEROP_KEEP:-} == 1 ]]; then
		echo "work dir kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for p in $(seq "$base" $((base + 9))) $(seq $((base + 20)) $((base + 23))); do
	if port_busy "$p"; then
		echo "port $p on 127.0.0.1 is in use: pick free ports with INTEROP_PORT_BASE" >&2
		exit 1
	fi
done

echo "== build smppd"
make -s build || exit 1

private_config configs "$work/config" "$base"
smpp_port=$(config_port "$work/config" smpp-server)
admin_port=$(config_port "$work/config" admin)
./bin/smppd -config "$work/config/smppd.toml" >"$work/smppd.log" 2>&1 &
smppd_pid=$!
if ! wait_port "$smpp_port" "$smppd_pid"; then
	echo "smppd did not start on port $smpp_port:" >&2
	tail -n 40 "$work/smppd.log" >&2
	exit 1
fi
admin=""
if [[ -z $admin_port ]]; then
	echo "note: the config has no [admin] listener: MO cases cannot inject and will fail"
elif wait_port "$admin_port" "$smppd_pid" 50; then
	admin="http://127.0.0.1:$admin_port"
else
	echo "note: admin listener on port $admin_port did not come up: MO cases will fail"
fi
export SMPP_HOST=127.0.0.1 SMPP_PORT=$smpp_port SMPPD_ADMIN=$admin INTEROP_PORT_BASE=$base
SMPPD_ADMIN_TOKEN=$(config_value "$work/config/smppd.toml" admin token)
export SMPPD_ADMIN_TOKEN
echo "smppd pid $smppd_pid on 127.0.0.1:$smpp_port, admin ${admin:-none}"

passed=0
failed=0
summary=()
for c in "${clients[@]}"; do
	echo "== $c"
	t0=$SECONDS
	out="$work/$c.out"
	if ! kill -0 "$smppd_pid" 2>/dev/null; then
		echo "FAIL $c: not run, smppd is no longer running" >"$out"
		rc=1
	else
		mkdir -p "$work/$c"
		INTEROP_WORK="$work/$c" timeout -k 5 "${INTEROP_CLIENT_TIMEOUT:-150}" \
			bash "interop/$c/run.sh" 2>&1 | tee "$out" | sed -u "s/^/[$c] /"
		rc=${PIPESTATUS[0]}
	fi
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	if ((rc == 124)); then
		echo "[$c] FAIL $c suite: timed out after ${INTEROP_CLIENT_TIMEOUT:-150}s"
		f=$((f + 1))
	elif ((rc != 0 && f == 0)); then
		echo "[$c] FAIL $c suite: exited with status $rc without reporting a case"
		f=$((f + 1))
	fi
	if ! kill -0 "$smppd_pid" 2>/dev/null; then
		echo "[$c] FAIL smppd survived $c: the server exited; its log ends:"
		tail -n 20 "$work/smppd.log" | sed "s/^/[$c]   /"
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	summary+=("$(printf '%-8s %3d passed %3d failed %4ds' "$c" "$p" "$f" $((SECONDS - t0)))")
done

echo "== summary ($((SECONDS - started))s)"
printf '%s\n' "${summary[@]}"
if ((failed)) && [[ -s $work/smppd.log ]]; then
	echo "-- smppd log (last 15 lines)"
	tail -n 15 "$work/smppd.log"
fi
echo "$passed passed, $failed failed"
((failed == 0))
