#!/usr/bin/env bash
# S3 benchmarks: Skyhub and moto_server in the same run, plus the machine's
# practical limits from /work/shared/limits (httpbare: bare reads; httpbare
# -fsync: durable writes with group commit), cold start and idle RSS.
#
#   s3-put-1KiB / s3-get-1KiB / s3-put-1MiB / s3-get-1MiB (aws-sdk-go-v2)
#       against skyhub and moto
#   s3-rawput-1KiB / s3-rawget-1KiB (prebuilt requests on a lean HTTP/1.1
#       client, runner.RawConn) against skyhub and moto
#   s3-rawget-1KiB vs s3-rawpost-1KiB on httpbare       -> reads vs bare
#   s3-rawput-1KiB vs s3-rawpost-1KiB on httpbare -fsync -> durable writes
#       (the same raw generator, no SDK cost, 64 clients)
#   after each Skyhub scenario: "server-cpu": Skyhub's CPU time per
#       operation over the run (from /proc/<pid>/stat), the steadier figure
#       on a shared machine
#   cold start: exec to first /healthz answer; idle RSS after start
#
# Servers on CPU 0, generators on CPU 1 (taskset, when present). Every
# process is bounded in time and stopped by PID. Knobs: DUR (10s), MOTO_DUR
# (5s), CONC (16), PORT_BASE (18500), LIMITS (/work/shared/limits),
# SKY_GOMAXPROCS (2: the machine's core count, what Go picks when the server
# is not pinned; pinned to one CPU Go would pick 1, and every fsync would block
# the only P, see bench/aws/sqs.sh. With 4 Ps on the one CPU a small PUT cost
# 58-65 us of server CPU against 51-55 us with 2, the difference being the
# scheduler looking for work: docs/bench-aws-s3.md).
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${DUR:-10s}
MOTO_DUR=${MOTO_DUR:-5s}
CONC=${CONC:-16}
PORT_BASE=${PORT_BASE:-18500}
LIMITS=${LIMITS:-/work/shared/limits}
SKY_AWS=$((PORT_BASE + 1))
MOTO=$((PORT_BASE + 10))
BARE=$((PORT_BASE + 20))
FSYNC=$((PORT_BASE + 21))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/s3bench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

SPIN=() LPIN=()
if command -v taskset >/dev/null; then SPIN=(taskset -c 0) LPIN=(taskset -c 1); fi

wait_port() {
	for _ in $(seq 1 600); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "port $1 did not open" >&2
	return 1
}

echo "# building"
go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/s3bench" ./bench/aws/s3bench
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare)
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

# Cold start (exec to the first /healthz 200, polled every 1 ms) and idle RSS,
# on fresh data directories, before the load.
timeout 120 "${SPIN[@]}" "$WORK/s3bench" -scenario coldstart -bin "$WORK/skyhub" -runs 5

SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$PORT_BASE SKYHUB_AWS_PORT=$SKY_AWS SKYHUB_WAMP_RAW_PORT=$((PORT_BASE + 2)) \
	SKYHUB_LOG_LEVEL=error GOMAXPROCS=${SKY_GOMAXPROCS:-2} timeout 900 "${SPIN[@]}" "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 &
SKY_TPID=$!
PIDS+=($SKY_TPID)
wait_port "$SKY_AWS"
SKY_PID=$(pgrep -P "$SKY_TPID" | head -1 || echo "$SKY_TPID")

timeout 900 "${SPIN[@]}" moto_server -H 127.0.0.1 -p "$MOTO" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$BARE" -decode=false -maxlife 900s >"$WORK/bare.log" 2>&1 &
PIDS+=($!)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$FSYNC" -decode=false -fsync -file "$WORK/fsync.log" -maxlife 900s >"$WORK/fsync.out" 2>&1 &
PIDS+=($!)
wait_port "$SKY_AWS"; wait_port "$MOTO"; wait_port "$BARE"; wait_port "$FSYNC"

B="timeout 300 ${LPIN[*]} $WORK/s3bench"
ticks() { awk '{print $14+$15}' /proc/"$1"/stat; }
# sky ARGS...: one Skyhub scenario, then its server CPU per operation.
sky() {
	local t0 out
	t0=$(ticks "$SKY_PID")
	out=$($B -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub "$@")
	echo "$out"
	awk -v t="$(($(ticks "$SKY_PID") - t0))" -v hz="$(getconf CLK_TCK)" -v ops="$(echo "$out" | awk '{print $3}')" -v d="$DUR" \
		'BEGIN { sub(/s$/, "", d); if (ops > 0) printf "server-cpu skyhub %.1f us/op (whole run, warm-up and prefill included)\n", t / hz * 1e6 / (ops * (d + 1)) }'
}
for size in 1024 1048576; do
	for sc in put get; do
		sky -scenario $sc -size $size -c "$CONC" -d "$DUR" -bucket "sky$sc$size"
		$B -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario $sc -size $size -c "$CONC" -d "$MOTO_DUR" -bucket "moto$sc$size" || true
	done
done
# The same operations without SDK cost, against both.
for sc in rawput rawget; do
	sky -scenario $sc -size 1024 -c "$CONC" -d "$DUR" -bucket "sky$sc"
	$B -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario $sc -size 1024 -c "$CONC" -d "$MOTO_DUR" -bucket "moto$sc" || true
done
# Limits: the same raw generator against Skyhub and the bare references.
$B -endpoint "http://127.0.0.1:$BARE/" -target httpbare -scenario rawpost -size 1024 -c 64 -d "$DUR"
sky -scenario rawget -size 1024 -c 64 -d "$DUR" -bucket rawget
$B -endpoint "http://127.0.0.1:$FSYNC/" -target httpbare-fsync -scenario rawpost -size 1024 -c 64 -d "$DUR"
sky -scenario rawput -size 1024 -c 64 -d "$DUR" -bucket rawput
echo "idle-rss-after skyhub $(awk '/VmRSS/{print $2}' /proc/"$SKY_PID"/status) KiB"
