# shellcheck shell=bash
# Helpers shared by interop/run.sh and the per-client runners: ports, a
# private smppd config, and starting/stopping processes by PID.

# port_busy PORT: true when something on 127.0.0.1 accepts connections there.
port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID [TRIES]: wait (0.1 s steps) until PORT accepts
# connections; fails early when PID has exited.
wait_port() {
	local port=$1 pid=$2 tries=${3:-150}
	while ((tries-- > 0)); do
		port_busy "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_pid PID [GRACE]: SIGTERM, wait up to GRACE seconds, then SIGKILL.
stop_pid() {
	local pid=$1 grace=${2:-10} i
	[[ -n $pid ]] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

# private_config SRC_DIR DST_DIR BASE: copies the config files and gives
# every listener (a table with both `bind` and `port` keys: smpp, tls,
# admin, ...) a port of its own from BASE up, so a run never collides with
# `make run` on the demo ports; other tables (connectors to an upstream)
# keep theirs. Writes DST_DIR/ports with one "table=port" line per listener.
private_config() {
	local src=$1 dst=$2 base=$3
	mkdir -p "$dst"
	find "$src" -maxdepth 1 -type f -exec cp {} "$dst"/ \; # files only: no state dirs of a `make run`
	awk -v base="$base" -v map="$dst/ports" '
		FNR == 1 { n_sec = 0 }
		/^[ \t]*\[/ { sec = $0; sub(/^[ \t]*\[/, "", sec); sub(/\][^\]]*$/, "", sec); n_sec++ }
		NR == FNR { if ($0 ~ /^[ \t]*bind[ \t]*=/) listener[n_sec] = 1; next }
		listener[n_sec] && /^[ \t]*port[ \t]*=[ \t]*[0-9]+/ {
			p = base + n++
			sub(/[0-9]+/, p)
			print sec "=" p > map
		}
		{ print }
	' "$src/smppd.toml" "$src/smppd.toml" >"$dst/smppd.toml"
}

# config_port DIR SECTION: the port private_config gave SECTION ("" if none).
config_port() {
	awk -F= -v s="$2" '$1 == s { print $2; exit }' "$1/ports"
}

# config_value FILE SECTION KEY: a quoted string value from one section.
config_value() {
	awk -v s="$2" -v k="$3" '
		/^[ \t]*\[/ { sec = $0; sub(/^[ \t]*\[/, "", sec); sub(/\].*$/, "", sec); next }
		sec == s && $0 ~ "^[ \t]*" k "[ \t]*=" {
			v = $0; sub(/^[^=]*=[ \t]*"/, "", v); sub(/".*$/, "", v); print v; exit
		}
	' "$1"
}
