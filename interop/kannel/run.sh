#!/usr/bin/env bash
# Kannel suite: bearerbox + smsbox (Debian `kannel`) with SMPP SMSC groups
# pointing at smppd. MT goes in through smsbox's sendsms HTTP interface with
# a dlr-mask and a dlr-url to a local recorder (recorder.js); MO injected
# into smppd must reach a Kannel sms-service (get-url to the same recorder).
# Runs as the current user from a generated kannel.conf in INTEROP_WORK and
# stops what it started by PID.
# Env: SMPP_HOST, SMPP_PORT, SMPPD_ADMIN(_TOKEN), INTEROP_WORK,
#      INTEROP_PORT_BASE (Kannel uses BASE+20..BASE+23).
# shellcheck disable=SC2317 # helpers run through trap and wait_for
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=interop/lib.sh
. "$here/../lib.sh"

work=${INTEROP_WORK:-$(mktemp -d)}
base=${INTEROP_PORT_BASE:-27750}
smpp_host=${SMPP_HOST:-127.0.0.1}
smpp_port=${SMPP_PORT:-2775}
admin_port=$((base + 20)) box_port=$((base + 21)) http_port=$((base + 22)) rec_port=$((base + 23))
nonce=$(printf '%x%x' "$(date +%s)" $$)
rec=$work/recorded.tsv
passed=0
failed=0

record() { # record OK NAME WHY
	if (($1)); then
		passed=$((passed + 1))
		echo "PASS $2${3:+: $3}"
	else
		failed=$((failed + 1))
		echo "FAIL $2${3:+: $3}"
	fi
}

# ok CMD...: 1 when CMD succeeds, else 0 (record's first argument).
ok() { if "$@"; then echo 1; else echo 0; fi; }

finish() {
	echo "$passed passed, $failed failed"
	((failed == 0))
	exit
}

bearerbox=$(command -v bearerbox || echo /usr/sbin/bearerbox)
smsbox=$(command -v smsbox || echo /usr/sbin/smsbox)
if [[ ! -x $bearerbox || ! -x $smsbox ]]; then
	record 0 "kannel setup" "bearerbox/smsbox not installed (run interop/install.sh)"
	finish
fi
for tool in node curl; do
	if ! command -v "$tool" >/dev/null; then
		record 0 "kannel setup" "$tool not installed (run interop/install.sh)"
		finish
	fi
done

rec_pid="" bb_pid="" sb_pid=""
cleanup() {
	stop_pid "$sb_pid" 10
	stop_pid "$bb_pid" 15
	stop_pid "$rec_pid" 2
}
trap cleanup EXIT
trap 'exit 143' INT TERM

# An SMSC group per bind shape: trx binds as transceiver (demo); txrx is
# two groups, a transmitter and a receiver (demo2, Kannel 1.4.5 wants one
# port per group); badpw sends a wrong password. The
# msg-id-type key is left unset on purpose: smppd's ids are 16 hex digits,
# and Kannel's hex modes parse them with strtoll, which saturates above
# 0x7fffffffffffffff; as C strings they match exactly.
cat >"$work/kannel.conf" <<EOF
group = core
admin-port = $admin_port
admin-interface = 127.0.0.1
admin-password = interop
status-password = interop
admin-allow-ip = "127.0.0.1"
smsbox-port = $box_port
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "$work/bearerbox.log"
log-level = 0
access-log = "$work/access.log"
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = trx
allowed-smsc-id = trx
host = $smpp_host
port = $smpp_port
transceiver-mode = true
smsc-username = demo
system-type = "VMA"
smsc-password = demopass
enquire-link-interval = 2
reconnect-delay = 2
log-file = "$work/smsc-trx.log"
log-level = 0

group = smsc
smsc = smpp
smsc-id = txrx
smsc-admin-id = tx
allowed-smsc-id = txrx
host = $smpp_host
port = $smpp_port
smsc-username = demo2
system-type = "VMA"
smsc-password = demopas2
enquire-link-interval = 2
reconnect-delay = 2
log-file = "$work/smsc-tx.log"
log-level = 0

group = smsc
smsc = smpp
smsc-id = txrx
smsc-admin-id = rx
allowed-smsc-id = none
host = $smpp_host
port = 0
receive-port = $smpp_port
smsc-username = demo2
system-type = "VMA"
smsc-password = demopas2
enquire-link-interval = 2
reconnect-delay = 2
log-file = "$work/smsc-rx.log"
log-level = 0

group = smsc
smsc = smpp
smsc-id = badpw
allowed-smsc-id = badpw
host = $smpp_host
port = $smpp_port
transceiver-mode = true
smsc-username = demo
system-type = "VMA"
smsc-password = wrongpw
reconnect-delay = 60
log-file = "$work/smsc-badpw.log"
log-level = 0

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $box_port
sendsms-port = $http_port
sendsms-interface = 127.0.0.1
log-file = "$work/smsbox.log"
log-level = 0

group = sendsms-user
username = interop
password = interop
max-messages = 10
concatenation = true

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "http://127.0.0.1:$rec_port/mo?smsc=%i&from=%p&to=%P&coding=%c&text=%a"
EOF

: >"$rec"
node "$here/recorder.js" "$rec_port" "$rec" &
rec_pid=$!
"$bearerbox" "$work/kannel.conf" >"$work/bearerbox.out" 2>&1 &
bb_pid=$!
if ! wait_port "$box_port" "$bb_pid" 100; then
	record 0 "kannel start" "bearerbox did not come up: $(tail -n 3 "$work/bearerbox.out" "$work/bearerbox.log" 2>/dev/null | tr '\n' ' ')"
	finish
fi
"$smsbox" "$work/kannel.conf" >"$work/smsbox.out" 2>&1 &
sb_pid=$!
if ! wait_port "$http_port" "$sb_pid" 100 || ! wait_port "$rec_port" "$rec_pid" 50; then
	record 0 "kannel start" "smsbox or the recorder did not come up: $(tail -n 3 "$work/smsbox.log" 2>/dev/null | tr '\n' ' ')"
	finish
fi

status() { curl -s "http://127.0.0.1:$admin_port/status.txt?password=interop"; }

# smsc_state ID: Kannel's own word for an SMSC connection (online, connecting, dead...).
smsc_state() {
	status | awk -v id="$1" '$1 == id || index($1, id "[") == 1 {
		for (i = 2; i <= NF; i++) if ($i ~ /^\(/) { s = $i; sub(/^\(/, "", s); sub(/[,)].*$/, "", s); print s; exit } }'
}

# pdu_status LOG TYPE: command_status of the first TYPE PDU Kannel logged
# receiving (its debug dump), per thread so interleaved dumps do not mix.
pdu_status() {
	awk -v t="$2" '
		/Got PDU:/ { for (i = 1; i <= NF; i++) if ($i ~ /^\[[0-9]+\]$/) th = $i; got[th] = 1 }
		/type_name:/ { for (i = 1; i <= NF; i++) if ($i ~ /^\[[0-9]+\]$/) th = $i; if (got[th] && $NF == t) want[th] = 1; got[th] = 0 }
		/  command_status:/ { for (i = 1; i <= NF; i++) if ($i ~ /^\[[0-9]+\]$/) th = $i; if (want[th]) { print $(NF - 2); exit } }
	' "$1" 2>/dev/null
}

# sent_udh LOG: the concatenation UDH (05 00 03 ref total seq) of every
# submit_sm Kannel logged sending with the UDH indicator (esm_class 0x40).
sent_udh() {
	awk '
		/Sending PDU:/ { th = $4; out[th] = 1; next }
		/type_name:/ { th = $4; sm[th] = out[th] && $NF == "submit_sm"; out[th] = 0; next }
		/  esm_class:/ { th = $4; udhi[th] = sm[th] && int($(NF - 2)) % 128 >= 64; next }
		/  short_message:/ { th = $4; dump[th] = udhi[th]; next }
		dump[$4] && /data:/ {
			d = $0; sub(/.*data: /, "", d); split(d, b, " ")
			if (b[1] == "05" && b[2] == "00" && b[3] == "03") printf "%s%s%s%s%s%s ", b[1], b[2], b[3], b[4], b[5], b[6]
			dump[$4] = 0
		}
	' "$1" 2>/dev/null
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	local n=$(($1 * 5))
	shift
	while ((n-- > 0)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

online() { [[ $(smsc_state "$1") == online ]]; }

# The recorder writes one line per request: path, then key=value fields,
# tab separated. rec_line PATTERN prints the first line containing PATTERN
# (fixed string); field LINE KEY prints one value from such a line.
rec_line() { grep -F -m 1 -- "$1" "$rec"; }
rec_has() { grep -q -F -- "$1" "$rec"; }
field() { tr '\t' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
dlr() { printf '/dlr\ttag=%s\ttype=%s\t' "$1" "$2"; } # dlr TAG TYPE: a recorder line prefix

wait_for 20 online trx
st=$(smsc_state trx)
record "$(ok test "$st" = online)" bind_transceiver \
	"Kannel SMSC trx: ${st:-no status}, bind_transceiver_resp status $(pdu_status "$work/smsc-trx.log" bind_transceiver_resp)"

wait_for 20 online txrx
tx=$(pdu_status "$work/smsc-tx.log" bind_transmitter_resp)
rx=$(pdu_status "$work/smsc-rx.log" bind_receiver_resp)
record "$(ok test "$tx" = 0)" bind_transmitter "Kannel SMSC txrx: $(smsc_state txrx), bind_transmitter_resp status ${tx:-none}"
record "$(ok test "$rx" = 0)" bind_receiver "Kannel SMSC txrx: bind_receiver_resp status ${rx:-none}"

refused() { grep -q 'rejected login.*0x0000000e' "$work/smsc-badpw.log" 2>/dev/null; }
wait_for 10 refused
line=$(grep -o 'rejected login.*' "$work/smsc-badpw.log" 2>/dev/null | head -n 1)
record "$(ok refused)" "wrong password refused" \
	"Kannel reports \"${line:-nothing}\", SMSC badpw $(smsc_state badpw)"

# sendsms TAG SMSC TEXT [extra curl args]: one MT with a dlr-url tagged TAG;
# prints smsbox's answer.
sendsms() {
	local tag=$1 smsc=$2 text=$3
	shift 3
	curl -s -G "http://127.0.0.1:$http_port/cgi-bin/sendsms" \
		--data-urlencode username=interop --data-urlencode password=interop \
		--data-urlencode from=12345 --data-urlencode to=491701234567 \
		--data-urlencode smsc="$smsc" --data-urlencode charset=UTF-8 \
		--data-urlencode text="$text" --data-urlencode dlr-mask=31 \
		--data-urlencode dlr-url="http://127.0.0.1:$rec_port/dlr?tag=$tag&type=%d&fid=%F&smsc=%i&reply=%A" \
		"$@"
}

accepted() { [[ $1 == 0:* || $1 == *"Accepted for delivery"* ]]; }

# check_submit NAME TAG ANSWER: Kannel accepted the MT and smppd's
# submit_sm_resp reached Kannel (DLR type 8 = SMSC accepted).
check_submit() {
	local name=$1 tag=$2 answer=$3
	if ! accepted "$answer"; then
		record 0 "$name" "sendsms answered \"$answer\""
		return
	fi
	wait_for 10 rec_has "$(dlr "$tag" 8)"
	local line
	line=$(rec_line "$(dlr "$tag" 8)")
	if [[ -n $line ]]; then
		record 1 "$name" "sendsms \"$answer\", SMSC-accepted DLR (type 8) for message id \"$(field "$line" fid)\""
	else
		record 0 "$name" "sendsms \"$answer\", no SMSC-accepted DLR (type 8) within 10s; Kannel: $(grep -o 'SMSC returned error.*' "$work/smsc-trx.log" | tail -n 1)"
	fi
}

check_submit "submit GSM7" gsm "$(sendsms gsm trx "GSM7 kannel $nonce @£\$ èé [€]" --data-urlencode coding=0)"
check_submit "submit UCS2" ucs "$(sendsms ucs trx "UCS2 kannel $nonce Привет мир ✓ 你好" --data-urlencode coding=2)"

long=""
while ((${#long} < 400)); do long+="Long kannel message $nonce. "; done
long=${long:0:400}
answer=$(sendsms long trx "$long" --data-urlencode coding=0)
if accepted "$answer"; then
	wait_for 10 rec_has "$(dlr long 8)"
	udh=$(sent_udh "$work/smsc-trx.log")
	n=$(wc -w <<<"$udh")
	record "$(ok test "$n" -eq 3)" "long message 3-part UDH" \
		"${#long} chars went out as $n submit_sm with UDH (${udh% }), SMSC-accepted DLR: $(rec_has "$(dlr long 8)" && echo yes || echo no)"
else
	record 0 "long message 3-part UDH" "sendsms answered \"$answer\""
fi

# The receipt: Kannel matched smppd's deliver_sm receipt to the MT it sent
# (by the message id from submit_sm_resp) and called the dlr-url with type 1.
wait_for 10 rec_has "$(dlr gsm 1)"
sent=$(field "$(rec_line "$(dlr gsm 8)")" fid)
line=$(rec_line "$(dlr gsm 1)")
if [[ -n $line ]]; then
	got=$(field "$line" fid)
	text=$(field "$line" reply)
	ok=0
	[[ -n $got && $got == "$sent" && $text == *"id:$got"* ]] && ok=1
	record "$ok" "receipt requested and received" \
		"delivered DLR (type 1) for message id \"$got\", submit_sm_resp id \"$sent\", receipt text \"$text\""
else
	record 0 "receipt requested and received" \
		"no delivered DLR (type 1) for $sent within 10s; Kannel: $(grep -o 'got DLR but could not find.*' "$work/smsc-trx.log" | head -n 1)"
fi

enquired() { [[ $(pdu_status "$work/smsc-trx.log" enquire_link_resp) == 0 ]]; }
wait_for 5 enquired
el=$(pdu_status "$work/smsc-trx.log" enquire_link_resp)
record "$(ok test "$el" = 0)" enquire_link "Kannel got enquire_link_resp status ${el:-none (no enquire_link_resp logged)}"

# inject_mo SYSTEM_ID TEXT: prints "" or why the admin API refused.
inject_mo() {
	if [[ -z ${SMPPD_ADMIN:-} ]]; then
		echo "no admin listener ([admin] missing from the config): cannot inject MO"
		return
	fi
	local body code auth=()
	[[ -n ${SMPPD_ADMIN_TOKEN:-} ]] && auth=(-H "Authorization: Bearer $SMPPD_ADMIN_TOKEN")
	body=$(printf '{"source_addr":"491700000001","destination_addr":"12345","short_message":"%s","system_id":"%s"}' "$2" "$1")
	code=$(curl -s -o "$work/mo.out" -w '%{http_code}' -X POST "$SMPPD_ADMIN/v1/mo" \
		-H 'Content-Type: application/json' "${auth[@]}" -d "$body")
	[[ $code == 2* ]] || echo "admin API answered $code $(tr -d '\n' <"$work/mo.out")"
}

check_mo() { # check_mo NAME SYSTEM_ID SMSC LABEL
	local want="MO kannel $4 $nonce @£\$ €" err line
	err=$(inject_mo "$2" "$want")
	if [[ -n $err ]]; then
		record 0 "$1" "$err"
		return
	fi
	wait_for 10 rec_has "MO kannel $4 $nonce"
	line=$(rec_line "MO kannel $4 $nonce")
	if [[ -z $line ]]; then
		record 0 "$1" "sms-service not called within 10s"
		return
	fi
	local smsc text
	smsc=$(field "$line" smsc)
	text=$(field "$line" text)
	record "$(ok test "$smsc|$text" = "$3|$want")" "$1" \
		"sms-service got \"$text\" via SMSC $smsc"
}

check_mo "MO to transceiver" demo trx transceiver
check_mo "MO to receiver" demo2 txrx receiver

# Unbind: a bearerbox shutdown makes each bound SMSC send unbind and wait
# for unbind_resp.
curl -s "http://127.0.0.1:$admin_port/shutdown?password=interop" >/dev/null
for _ in $(seq 100); do
	kill -0 "$bb_pid" 2>/dev/null || break
	sleep 0.1
done
ub=$(pdu_status "$work/smsc-trx.log" unbind_resp)
record "$(ok test "$ub" = 0)" unbind "Kannel got unbind_resp status ${ub:-none} on shutdown"
finish
