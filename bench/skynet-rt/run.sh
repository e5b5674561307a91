#!/usr/bin/env bash
# SkyNet real-time transports under load, side by side with the machine's
# practical limit (the bare WebSocket relay of /work/shared/limits, built
# from there, in the same run):
#   relay-*     1,000 devices, device i -> device i+1, closed loop (window per
#               device): peak messages/s, p50/p99; then open loop at 25% of
#               the bare relay's peak: p50/p99
#   idle-*      10,000 idle connected devices: KB of server RSS per device
# for each transport (eio = Socket.IO over Engine.IO 3 WebSocket, sio09 =
# Socket.IO 0.9 WebSocket, wsv2 = /ws/v2), against the whole app
# (`skyhub serve`: registry, hub, durable event log) and against rtecho
# (the same transports with an in-memory relay handler: the framing alone).
# Server on CPU 0, load generators on CPU 1 when taskset allows. Every
# process is bounded in time and stopped by PID.
# Knobs: DUR, WARMUP, CONNS, WINDOW, SIZE, IDLE_CONNS, SETTLE, PORT, LIMITS,
# TARGETS ("skyhub rtecho"), TRANSPORTS ("eio sio09 wsv2").
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd ../.. && pwd)

DUR=${DUR:-10s}
WARMUP=${WARMUP:-2s}
CONNS=${CONNS:-1000}
WINDOW=${WINDOW:-4}
SIZE=${SIZE:-128}
IDLE_CONNS=${IDLE_CONNS:-10000}
SETTLE=${SETTLE:-3}
PORT=${PORT:-28380}
LIMITS=${LIMITS:-/work/shared/limits}
TARGETS=${TARGETS:-"skyhub rtecho"}
TRANSPORTS=${TRANSPORTS:-"eio sio09 wsv2"}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/skynet-rt.XXXXXX")
RESULTS=$WORK/results
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill "$p" 2>/dev/null || true
			wait "$p" 2>/dev/null || true
		fi
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
note() { echo "# $*"; }
forget() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

echo "== build"
mkdir -p "$WORK/bin"
(cd "$ROOT" && go build -o "$WORK/bin/" ./cmd/skyhub ./bench/skynet-rt/rtload ./bench/skynet-rt/rtecho)
(cd "$LIMITS" && go build -o "$WORK/bin/" ./cmd/wsecho ./cmd/loadgen)
BIN=$WORK/bin

if command -v taskset >/dev/null 2>&1 && taskset -c "$SERVER_CPU" true 2>/dev/null && taskset -c "$LOADGEN_CPU" true 2>/dev/null; then
	SPIN=(taskset -c "$SERVER_CPU")
	LPIN=(taskset -c "$LOADGEN_CPU")
	note "pinning: server on CPU $SERVER_CPU, load generator on CPU $LOADGEN_CPU"
else
	SPIN=()
	LPIN=()
	note "WARNING: taskset unavailable: server and load generator run unpinned"
fi
need=$((IDLE_CONNS + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
note "open files limit $(ulimit -n) (need $need)"
note "machine: $(nproc) CPUs, kernel $(uname -r), $(go version | awk '{print $3}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

wait_port() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "server on port $1 did not come up" >&2
	return 1
}
start_server() { # NAME: sets SPID
	case $1 in
	relay) "${SPIN[@]}" "$BIN/wsecho" -addr "127.0.0.1:$PORT" -mode relay -maxlife 600s 2>>"$WORK/server.log" & ;;
	rtecho) "${SPIN[@]}" "$BIN/rtecho" -addr "127.0.0.1:$PORT" -maxlife 600s 2>>"$WORK/server.log" & ;;
	skyhub)
		rm -rf "$WORK/data"
		cat >"$WORK/skyhub.json" <<JSON
{"port": $PORT, "host": "127.0.0.1", "rateLimit": 0, "dataDir": "$WORK/data", "log": {"level": "error"},
 "skynet": {"bcryptCost": 4}, "aws": {"port": 0}, "wamp": {"rawSocketPort": 0, "universalPort": 0}}
JSON
		"${SPIN[@]}" "$BIN/skyhub" serve -config "$WORK/skyhub.json" >>"$WORK/server.log" 2>&1 &
		;;
	esac
	SPID=$!
	PIDS+=("$SPID")
	wait_port "$PORT"
}
stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	forget "$SPID"
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
lg() { # NAME CMD...: one bounded load-generator run
	local name=$1
	shift
	if timeout 300 "${LPIN[@]}" "$@" >"$WORK/lg.$name" 2>&1; then
		cat "$WORK/lg.$name"
		grep -v '^#' "$WORK/lg.$name" | tail -1 >>"$RESULTS"
		# server CPU per delivered message over the window (rtload -serverpid,
		# or the limits loadgen's "server N%" with its delivered rate)
		awk -v n="$name" '
			/# server CPU/ { for (i = 1; i <= NF; i++) if ($i == "µs") us = $(i-1); cpu = $4 }
			/CPU over the window:/ { for (i = 1; i <= NF; i++) if ($i == "server") { c = $(i+1); sub("%", "", c) } }
			!/^#/ && NF >= 3 { rate = $2 }
			END {
				if (us != "") printf "%-28s %8s µs/msg (server %s of a core)\n", n, us, cpu
				else if (c != "" && rate > 0) printf "%-28s %8.1f µs/msg (server %s%% of a core)\n", n, c * 1e4 / rate, c
			}' "$WORK/lg.$name" >>"$WORK/cpu"
	else
		cat "$WORK/lg.$name"
		note "$name FAILED"
	fi
}
# idle NAME CMD...: RSS of the server before and with the idle devices
idle() {
	local name=$1 r0 r1 lp
	shift
	sleep 1
	r0=$(rss_kb "$SPID")
	"${LPIN[@]}" "$@" >"$WORK/idle.$name" 2>&1 &
	lp=$!
	PIDS+=("$lp")
	for _ in $(seq 1 3000); do
		grep -q '^READY' "$WORK/idle.$name" && break
		kill -0 "$lp" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q '^READY' "$WORK/idle.$name"; then
		sleep "$SETTLE"
		r1=$(rss_kb "$SPID")
		grep '^#' "$WORK/idle.$name" || true
		note "$name: server RSS $r0 KB before, $r1 KB with $IDLE_CONNS idle devices"
		awk -v n="$name" -v a="$r0" -v b="$r1" -v k="$IDLE_CONNS" \
			'BEGIN{printf "%-28s %12.1f %-8s %10s %10s\n", n, (b-a)/k, "KB/conn", "-", "-"}' | tee -a "$RESULTS"
	else
		note "$name FAILED"
		cat "$WORK/idle.$name"
	fi
	kill "$lp" 2>/dev/null || true
	wait "$lp" 2>/dev/null || true
	forget "$lp"
}

echo "== limit: bare WebSocket relay ($LIMITS)"
start_server relay
lg "relay-$CONNS-peak" "$BIN/loadgen" ws -addr "127.0.0.1:$PORT" -conns "$CONNS" -window "$WINDOW" -size "$SIZE" -d "$DUR" -warmup "$WARMUP" -serverpid "$SPID" -name "limit-relay-peak"
PEAK=$(awk '$1=="limit-relay-peak"{print $2}' "$RESULTS")
RATE=$(awk -v p="${PEAK:-0}" 'BEGIN{printf "%.0f", p/4}')
if [ "${RATE:-0}" -gt 0 ]; then
	lg "relay-$CONNS-paced25" "$BIN/loadgen" ws -addr "127.0.0.1:$PORT" -conns "$CONNS" -aggregate "$RATE" -size "$SIZE" -d "$DUR" -warmup "$WARMUP" -serverpid "$SPID" -name "limit-relay-paced25"
fi
stop_server
start_server relay
idle "limit-relay-idle" "$BIN/loadgen" idle -addr "127.0.0.1:$PORT" -conns "$IDLE_CONNS" -hold 300s
stop_server

for target in $TARGETS; do
	for tr in $TRANSPORTS; do
		echo "== $target $tr"
		start_server "$target"
		lg "$target-$tr-peak" "$BIN/rtload" relay -transport "$tr" -addr "127.0.0.1:$PORT" -conns "$CONNS" -window "$WINDOW" -size "$SIZE" -d "$DUR" -warmup "$WARMUP" -serverpid "$SPID" -name "$target-$tr-peak"
		if [ "${RATE:-0}" -gt 0 ]; then
			lg "$target-$tr-paced25" "$BIN/rtload" relay -transport "$tr" -addr "127.0.0.1:$PORT" -conns "$CONNS" -aggregate "$RATE" -size "$SIZE" -d "$DUR" -warmup "$WARMUP" -serverpid "$SPID" -name "$target-$tr-paced25"
		fi
		stop_server
		start_server "$target"
		idle "$target-$tr-idle" "$BIN/rtload" idle -transport "$tr" -addr "127.0.0.1:$PORT" -conns "$IDLE_CONNS" -hold 600s -dialers 64
		stop_server
	done
done

echo "== summary: scenario value unit p50 p99"
cat "$RESULTS"
echo "== server CPU per delivered message (over each measured window)"
cat "$WORK/cpu" 2>/dev/null || true
echo "== ratios (targets: peak >= 50% of the relay's; p99 <= 5 ms at 25% of the relay's peak; <= 16 KB per idle device)"
awk '
	{v[$1]=$2; p99[$1]=$5}
	END {
		peak=v["limit-relay-peak"]; idle=v["limit-relay-idle"]
		for (k in v) {
			if (k ~ /-peak$/ && k != "limit-relay-peak" && peak > 0) printf "%-28s %6.1f%% of the relay peak\n", k, 100*v[k]/peak
			if (k ~ /-paced25$/ && k != "limit-relay-paced25") printf "%-28s p99 %s at %s msg/s offered (relay p99 %s)\n", k, p99[k], sprintf("%.0f", peak/4), p99["limit-relay-paced25"]
			if (k ~ /-idle$/ && k != "limit-relay-idle" && idle > 0) printf "%-28s %6.1f KB/device (%.2f x the relay)\n", k, v[k], v[k]/idle
		}
	}' "$RESULTS" | sort
