#!/usr/bin/env bash
# SkyNet POST /messages throughput beside the machine's reference limits
# (/work/shared/limits httpbare, plain and -fsync), same load generator,
# same run. Server on CPU 0, generator on CPU 1 when taskset exists.
#   bench/skynet/run.sh            # DUR=10s by default; DUR=5s bench/skynet/run.sh
# Prints: scenario value unit p50 p99, then ratios to http-bare/http-fsync.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-10s}
PORT=${PORT:-18090}
LIMITS=${LIMITS:-/work/shared/limits}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/skynet-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
# pin runs a command on one CPU; it execs, so "pin ... &" gives the PID of the command itself.
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }

go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/load" ./bench/skynet
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare)

wait_up() { for _ in $(seq 300); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "server did not start" >&2; cat "$WORK/skyhub.log" >&2 2>/dev/null; exit 1; }
stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
RES=$WORK/results
lg() { pin 1 timeout 120 "$WORK/load" -d "$DUR" "$@" | tee -a "$RES"; }

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
pin 0 "$WORK/httpbare" -addr "127.0.0.1:$PORT" -maxlife 120s >/dev/null 2>&1 & P=$!; PIDS+=($P)
wait_up "http://127.0.0.1:$PORT/stats"
for c in 16 64; do lg -mode bare -url "http://127.0.0.1:$PORT" -c $c -name "http-bare-c$c"; done
stop $P

pin 0 "$WORK/httpbare" -addr "127.0.0.1:$PORT" -fsync -file "$WORK/fsync.log" -maxlife 120s >/dev/null 2>&1 & P=$!; PIDS+=($P)
wait_up "http://127.0.0.1:$PORT/stats"
for c in 16 64; do lg -mode bare -url "http://127.0.0.1:$PORT" -c $c -name "http-fsync-c$c"; done
stop $P

SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$PORT SKYHUB_AWS_PORT=0 SKYHUB_WAMP_RAW_PORT=0 SKYHUB_RATE_LIMIT=0 SKYHUB_LOG_LEVEL=warn \
	pin 0 timeout 300 "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 & P=$!; PIDS+=($P)
wait_up "http://127.0.0.1:$PORT/healthz"
for c in 16 64; do lg -mode skynet -url "http://127.0.0.1:$PORT" -c $c -name "skynet-messages-c$c"; done
lg -mode skynet -url "http://127.0.0.1:$PORT" -c 64 -stream -name "skynet-messages-stream-c64"
stop $P

echo "# ratios (req/s)"
awk '$3=="req/s"{v[$1]=$2} END{
  for (c in a) {}
  split("16 64", cs, " ");
  for (i in cs) { c=cs[i];
    s=v["skynet-messages-c" c]; b=v["http-bare-c" c]; f=v["http-fsync-c" c];
    if (b>0) printf "skynet-messages-c%s / http-bare-c%s = %.2f\n", c, c, s/b;
    if (f>0) printf "skynet-messages-c%s / http-fsync-c%s = %.2f\n", c, c, s/f; }
}' "$RES"
