#!/usr/bin/env bash
# Skyhub's WAMP router beside nexusd v3.3.0 (specs/wamp.md 6.4): one load
# generator (bench/wamp, nexus client) for both, same payloads, both routers
# started up front and pinned to CPU 0, the generator pinned to CPU 1;
# scenarios alternated A,B / B,A for REPS repetitions; router CPU read from
# /proc/<pid>/stat, RSS and threads from /proc/<pid>/status.
#
#   bench/wamp/run.sh                      # REPS=5 DUR=3s CHURN=10000
#   REPS=5 DUR=1s CHURN=2000 KEEP=/tmp/wb bench/wamp/run.sh > /tmp/out.md   # short run, keep logs
#   ONLY=S7 REPS=5 bench/wamp/run.sh         # one scenario
#
# nexusd is built from the Go module proxy into a throwaway module in a
# temp dir (nothing of it is committed). Everything listens on 127.0.0.1
# only, every process is killed by PID on exit, each scenario bounds itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
REPS=${REPS:-5}
DUR=${DUR:-3s}
CHURN=${CHURN:-10000}
IDLE=${IDLE:-3000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wamp-bench.XXXXXX")
PIDS=()
KEEP=${KEEP:-}   # a directory to keep the router logs and raw results in
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; cp "$WORK"/*.log "$WORK/results" "$KEEP"/ 2>/dev/null || true; fi
	rm -rf "$WORK"
}
trap cleanup EXIT
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "building skyhub, the load generator and nexusd v3.3.0 ..." >&2
go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/load" ./bench/wamp
mkdir "$WORK/nexusbuild"
(cd "$WORK/nexusbuild" && go mod init example.com/nexusbuild >/dev/null 2>&1 &&
	GOFLAGS=-mod=mod go get github.com/gammazero/nexus/v3/nexusd@v3.3.0 >/dev/null 2>&1 &&
	GOFLAGS=-mod=mod go build -o "$WORK/nexusd" github.com/gammazero/nexus/v3/nexusd)

SP=$(freeport); SR=$(freeport); NP=$(freeport); NR=$(freeport)
start_skyhub() {
	rm -rf "$WORK/data"
	# GOMAXPROCS=1 matches nexusd (one P on its one core); note that
	# cmd/skyhub/serve.go currently raises it to 2 anyway (docs/bench-wamp.md).
	GOMAXPROCS=1 SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$SP SKYHUB_AWS_PORT=0 SKYHUB_WAMP_RAW_PORT=$SR SKYHUB_LOG_LEVEL=warn \
		pin 0 "$WORK/skyhub" serve -data "$WORK/data" >>"$WORK/skyhub.log" 2>&1 &
	SKY=$!; PIDS+=("$SKY")
	for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SP/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
}
start_nexus() {
	pin 0 "$WORK/nexusd" --realm realm1 --ws "127.0.0.1:$NP" --tcp "127.0.0.1:$NR" >>"$WORK/nexusd.log" 2>&1 &
	NEX=$!; PIDS+=("$NEX")
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$NP") 2>/dev/null && return; sleep 0.1; done
}
start_skyhub; start_nexus; sleep 0.5

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
status() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; }
url() { case $1-$2 in skyhub-ws) echo "ws://127.0.0.1:$SP/ws";; skyhub-raw) echo "tcp://127.0.0.1:$SR";;
	nexus-ws) echo "ws://127.0.0.1:$NP/";; nexus-raw) echo "tcp://127.0.0.1:$NR";; esac; }
pid() { if [ "$1" = skyhub ]; then echo "$SKY"; else echo "$NEX"; fi; }
RES="$WORK/results"
ONLY=${ONLY:-}   # run only scenarios whose name contains this (e.g. ONLY=S7)
lg() { # router transport scenario args...
	local r=$1 t=$2 label=$3; shift 3
	case $label in *"$ONLY"*) ;; *) return 0;; esac
	local p; p=$(pid "$r")
	local c0; c0=$(cpu "$p")
	local out
	out=$(pin 1 timeout 300 "$WORK/load" -url "$(url "$r" "$t")" -name "$label" "$@" 2>/dev/null) || out="$label 0 failed"
	echo "$r $out cpu_ticks=$(( $(cpu "$p") - c0 )) rss_kb=$(status "$p" VmRSS) threads=$(status "$p" Threads)" | tee -a "$RES" >&2
}
# S6: idle sessions on each (fresh) router: RSS growth per session.
idle() { # router transport
	local r=$1 t=$2 p; p=$(pid "$r")
	local rss0; rss0=$(status "$p" VmRSS)
	pin 1 "$WORK/load" -url "$(url "$r" "$t")" -mode idle -k "$IDLE" -hold 4s -ser msgpack -name "S6-idle$IDLE-$t" \
		>"$WORK/idle.out" 2>"$WORK/idle.err" &
	local lp=$!
	for _ in $(seq 600); do grep -q idle-ready "$WORK/idle.err" 2>/dev/null && break; sleep 0.1; done
	sleep 1
	local rss1 th; rss1=$(status "$p" VmRSS); th=$(status "$p" Threads)
	wait "$lp" || true
	echo "$r $(cat "$WORK/idle.out") kb_per_session=$(( (rss1 - rss0) / IDLE )) rss_kb=$rss1 threads=$th" | tee -a "$RES" >&2
}
restart() { kill "$SKY" "$NEX"; wait "$SKY" "$NEX" 2>/dev/null || true; start_skyhub; start_nexus; sleep 0.5; }

if [[ -z $ONLY || S6 == *"$ONLY"* ]]; then
	echo "S6 idle sessions (fresh routers) ..." >&2
	idle skyhub ws; idle nexus ws; restart
	idle skyhub raw; idle nexus raw; restart
fi

for rep in $(seq "$REPS"); do
	order="skyhub nexus"; [ $((rep % 2)) = 0 ] && order="nexus skyhub"
	echo "rep $rep ($order)" >&2
	for r in $order; do lg "$r" ws S1-rpc-c1-json -mode rpc -c 1 -d "$DUR" -ser json; done
	for r in $order; do lg "$r" ws S2-rpc-c16-json -mode rpc -c 16 -d "$DUR" -ser json; done
	for r in $order; do lg "$r" ws S2-rpc-c16-msgpack -mode rpc -c 16 -d "$DUR" -ser msgpack; done
	for r in $order; do lg "$r" raw S2-rpc-c16-raw-msgpack -mode rpc -c 16 -d "$DUR" -ser msgpack; done
	for r in $order; do lg "$r" ws S3-fanout16-json -mode pubsub -subs 16 -n 20000 -ser json; done
	for r in $order; do lg "$r" ws S3-fanout16-msgpack -mode pubsub -subs 16 -n 20000 -ser msgpack; done
	for r in $order; do lg "$r" ws S4-paced16-1kps-json -mode paced -subs 16 -n 2000 -rate 1000 -ser json; done
	for r in $order; do lg "$r" ws S5-burst256-msgpack -mode pubsub -subs 256 -n 2000 -ser msgpack; done
	for r in $order; do lg "$r" ws S7-rpc-c20-128KB-bin-msgpack -mode rpc -c 20 -d "$DUR" -size 131072 -binary -ser msgpack; done
	for r in $order; do lg "$r" ws S8-patterns1000-json -mode patterns -patterns 1000 -d "$DUR" -ser json; done
	for r in $order; do lg "$r" ws S9-churn-msgpack -mode churn -k "$CHURN" -ser msgpack; done
done

echo "# drops in router logs: skyhub $(grep -ci 'drop' "$WORK/skyhub.log" || true) lines, nexus $(grep -ci 'dropped' "$WORK/nexusd.log" || true) lines" >&2
SKYDROPS=$(grep -ci 'drop' "$WORK/skyhub.log" || true)
NEXDROPS=$(grep -ci 'dropped' "$WORK/nexusd.log" || true)
SKYOVF=$(curl -sf "http://127.0.0.1:$SP/metrics" | awk '/^skyhub_wamp_outbound_overflow_total/ {s+=$2} END {print s+0}')
python3 "$ROOT/bench/wamp/summarize.py" "$RES" "$REPS" "$DUR" "$CHURN" "$IDLE" "$SKYDROPS" "$NEXDROPS" "$SKYOVF"
