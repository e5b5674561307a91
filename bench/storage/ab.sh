#!/usr/bin/env bash
# A/B of storage and runtime settings under durable writes: for each skyhub
# binary given (label=path), a fresh server on CPU 0 and, in the same round,
# the fsync reference (httpbare -fsync); short raw runs of S3 PutObject 1 KiB
# (s3bench rawput), DynamoDB PutItem (ddbbench rawput) and Kinesis PutRecord
# (kinbench raw-put), 64 clients on CPU 1. Per scenario: ops/s and the
# server's CPU per operation (/proc/<pid>/stat over the measured window,
# warm-up included); per server: cold start (exec to first /healthz), RSS
# 1 s after start and IDLE_WAIT (12) s after the load.
#
#   bench/storage/ab.sh base=/tmp/skyhub-old new=/tmp/skyhub-new
#   ROUNDS=3 DUR=3s ENV_new="GOGC=100" bench/storage/ab.sh ...
#
# Every process is bounded in time and stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR=${DUR:-3s}
ROUNDS=${ROUNDS:-3}
CONC=${CONC:-64}
LIMITS=${LIMITS:-/work/shared/limits}
PB=${PORT_BASE:-18700}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvab.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
SPIN=() LPIN=()
if command -v taskset >/dev/null; then SPIN=(taskset -c 0) LPIN=(taskset -c 1); fi
go build -o "$WORK/s3bench" ./bench/aws/s3bench
go build -o "$WORK/ddbbench" ./bench/aws/ddbbench
go build -o "$WORK/kinbench" ./bench/aws/kinbench
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare)
ticks() { awk '{print $14+$15}' /proc/"$1"/stat; }
rss() { awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/"$1"/status; }
hz=$(getconf CLK_TCK)
d=${DUR%s}
# measure PID LABEL CMD...: run a load, print ops/s and server us/op.
measure() {
	local pid=$1 label=$2 t0 out ops
	shift 2
	t0=$(ticks "$pid")
	out=$(timeout 120 "${LPIN[@]}" "$@" 2>&1 | grep -E '^(s3|ddb|kin|raw)[A-Za-z0-9-]* [a-z-]+ [0-9.]+ ' | head -1 || true)
	ops=$(echo "$out" | awk '{print $3}')
	awk -v l="$label" -v t="$(($(ticks "$pid") - t0))" -v hz="$hz" -v ops="$ops" -v d="$d" -v raw="$out" \
		'BEGIN { if (ops > 0) printf "%-28s %9.0f ops/s  %6.1f us/op\n", l, ops, t / hz * 1e6 / (ops * (d + 1)); else printf "%-28s ?? %s\n", l, raw }'
}
for r in $(seq 1 "$ROUNDS"); do
	echo "## round $r"
	rm -f "$WORK/fsync.log"
	"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$((PB + 9))" -decode=false -fsync -file "$WORK/fsync.log" -maxlife 300s >/dev/null 2>&1 &
	fp=$!
	PIDS+=($fp)
	sleep 0.3
	measure "$fp" "fsync-ref" "$WORK/s3bench" -endpoint "http://127.0.0.1:$((PB + 9))/" -target httpbare-fsync -scenario rawpost -size 1024 -c "$CONC" -d "$DUR"
	kill "$fp"; wait "$fp" 2>/dev/null || true
	for spec in "$@"; do
		label=${spec%%=*} bin=${spec#*=}
		envname="ENV_$label"
		rm -rf "$WORK/data"
		t0=$(date +%s%N)
		env ${!envname:-} SKYHUB_PORT=$PB SKYHUB_AWS_PORT=$((PB + 1)) SKYHUB_WAMP_RAW_PORT=$((PB + 2)) SKYHUB_DATA="$WORK/data" \
			SKYHUB_LOG_LEVEL=error SKYHUB_KINESIS_UNLIMITED=true timeout 300 "${SPIN[@]}" "$bin" >/dev/null 2>&1 &
		tp=$!
		PIDS+=($tp)
		until curl -sf "http://127.0.0.1:$PB/healthz" >/dev/null 2>&1; do sleep 0.002; done
		t1=$(date +%s%N)
		sp=$(pgrep -P "$tp")  # timeout forks the server (taskset execs it)
		sleep 1
		echo "$label: cold start $(((t1 - t0) / 1000000)) ms (incl. curl polling), idle RSS after start $(rss "$sp") MB"
		measure "$sp" "$label s3-rawput-1KiB" "$WORK/s3bench" -endpoint "http://127.0.0.1:$((PB + 1))" -target skyhub -scenario rawput -size 1024 -c "$CONC" -d "$DUR" -bucket abput
		measure "$sp" "$label ddb-rawput" "$WORK/ddbbench" -endpoint "http://127.0.0.1:$((PB + 1))" -scenario rawput -c "$CONC" -d "$DUR"
		measure "$sp" "$label kin-raw-put" "$WORK/kinbench" -endpoint "http://127.0.0.1:$((PB + 1))" -scenario raw-put -c "$CONC" -d "$DUR"
		sleep "${IDLE_WAIT:-12}"
		echo "$label: RSS ${IDLE_WAIT:-12} s after load $(rss "$sp") MB, data $(du -sm "$WORK/data" | cut -f1) MB"
		kill "$sp"; wait "$tp" 2>/dev/null || true
	done
done
