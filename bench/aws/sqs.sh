#!/usr/bin/env bash
# SQS benchmarks, Skyhub and moto_server in the same run, plus the
# machine's durable-write reference (/work/shared/limits httpbare -fsync):
#
#   sqs-send-<client>-cN     SendMessage, 200-byte bodies, JSON 1.0
#   sqs-recvdel-<client>-cN  ReceiveMessage (1 message) + DeleteMessage of it
#   (client raw: plain net/http requests; client sdk: aws-sdk-go-v2)
#   raw-send-c64     the limits load generator (raw keep-alive HTTP, no SDK
#                    cost) posting an SQS JSON SendMessage to Skyhub, next to
#                    the same generator posting to httpbare -fsync: the
#                    durable-write ratio
#
# Servers on CPU 0, load generators on CPU 1 (taskset, when present). Every
# process is bounded in time and stopped by PID. Knobs: DUR (default 10s),
# MOTO_DUR (5s), CONC (16), PORT_BASE (18400), LIMITS (/work/shared/limits),
# SKY_GOMAXPROCS (4).
#
# Why SKY_GOMAXPROCS: pinning a Go process to one CPU makes the runtime pick
# GOMAXPROCS=1; every durable write then blocks the only P in fsync until
# sysmon hands it off, and Skyhub's durable sends fall to ~5k/s on this
# machine (13-14k/s with GOMAXPROCS=4 on the same single pinned CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${DUR:-10s}
MOTO_DUR=${MOTO_DUR:-5s}
CONC=${CONC:-16}
PORT_BASE=${PORT_BASE:-18400}
LIMITS=${LIMITS:-/work/shared/limits}
SKY_AWS=$((PORT_BASE + 1))
MOTO=$((PORT_BASE + 10))
BARE=$((PORT_BASE + 20))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sqsbench.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

SPIN=() LPIN=()
if command -v taskset >/dev/null; then SPIN=(taskset -c 0) LPIN=(taskset -c 1); fi

wait_port() {
	for _ in $(seq 1 300); do
		if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "port $1 did not open" >&2
	return 1
}

echo "# building"
go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/sqsbench" ./bench/aws/sqsbench
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare && go build -o "$WORK/loadgen" ./cmd/loadgen)
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "# starting skyhub (data in $WORK/data), moto_server, httpbare -fsync"
SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$PORT_BASE SKYHUB_AWS_PORT=$SKY_AWS SKYHUB_WAMP_RAW_PORT=$((PORT_BASE + 2)) \
	SKYHUB_LOG_LEVEL=error GOMAXPROCS=${SKY_GOMAXPROCS:-4} timeout 900 "${SPIN[@]}" "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 &
SKY_TPID=$!
PIDS+=($SKY_TPID)
timeout 900 "${SPIN[@]}" moto_server -H 127.0.0.1 -p "$MOTO" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$BARE" -fsync -file "$WORK/fsync.log" -maxlife 900s >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
PIDS+=($BARE_PID)
wait_port "$SKY_AWS"; wait_port "$MOTO"; wait_port "$BARE"
SKY_PID=$(pgrep -P "$SKY_TPID" | head -1)

RES=$WORK/results
# Durable-write reference: the same raw generator against both.
Q=rawbench
curl -s -o /dev/null "http://127.0.0.1:$SKY_AWS/?Action=CreateQueue&Version=2012-11-05&QueueName=$Q"
BODY="{\"QueueUrl\":\"http://127.0.0.1:$SKY_AWS/000000000000/$Q\",\"MessageBody\":\"$(printf 'x%.0s' $(seq 1 200))\"}"
timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -addr "127.0.0.1:$BARE" -c 64 -d "$DUR" -name fsync-ref-c64 -serverpid "$BARE_PID" | tee -a "$RES.raw"
timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -addr "127.0.0.1:$SKY_AWS" -c 64 -d "$DUR" -stats "" -name raw-send-c64 -serverpid "$SKY_PID" \
	-H "Content-Type: application/x-amz-json-1.0" -H "X-Amz-Target: AmazonSQS.SendMessage" -body "$BODY" | tee -a "$RES.raw"

lg() { timeout 300 "${LPIN[@]}" "$WORK/sqsbench" "$@" | tee -a "$RES" || echo "# failed: $*"; }
for client in raw sdk; do
	lg -client $client -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario send -c "$CONC" -d "$DUR"
	lg -client $client -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario send -c "$CONC" -d "$MOTO_DUR"
	lg -client $client -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario recvdel -c "$CONC" -d "$DUR" -prefill 100000
	lg -client $client -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario recvdel -c "$CONC" -d "$MOTO_DUR" -prefill 1000
done

echo "# summary"
awk '
	FILENAME ~ /raw$/ { if ($1 ~ /^fsync-ref/) ref = $2; if ($1 ~ /^raw-send/) raw = $2; next }
	{ v[$1 " " $2] = $3; s[$1] = 1 }
	END {
		for (k in s) if (v[k " moto"] > 0) printf "%s skyhub/moto = %.1fx (%s vs %s ops/s)\n", k, v[k " skyhub"] / v[k " moto"], v[k " skyhub"], v[k " moto"]
		if (ref > 0) printf "raw SendMessage / httpbare-fsync = %.0f%% (%s vs %s req/s)\n", 100 * raw / ref, raw, ref
	}' "$RES" "$RES.raw"
