#!/usr/bin/env bash
# Kinesis benchmarks: Skyhub, moto_server and kinesalite (npm, in-memory) in
# the same run, plus the machine's references from /work/shared/limits:
#
#   kinesis-put-cN               PutRecord, 200-byte records (aws-sdk-go-v2, JSON 1.1)
#   kinesis-putrecords500x1k-cN  PutRecords of 500 x 1 KiB (and records/s)
#   kinesis-get-limitL-cN        GetRecords (Limit L) walking a prefilled shard
#   raw-putrecords500x1k-c4      PutRecords 500 x 1 KiB prebuilt, over the lean
#                                runner.RawConn client (no SDK cost; records/s)
#   raw-get-limit100-cN          GetRecords Limit 100 walking a shard over RawConn
#   raw-put-c64 / fsync-ref-c64  the limits load generator posting a Kinesis
#                                PutRecord to Skyhub (durable, fsynced) and to
#                                httpbare -fsync: the durable-write ratio
#   raw-get-c64 / bare-ref-c64   the same generator posting GetRecords (Limit 1,
#                                one fixed iterator) to Skyhub and its default
#                                body to plain httpbare: the read ratio
#   raw-{put,get}-c64-<peer>     the same raw requests against kinesalite and
#                                moto_server (server capacity without SDK cost)
#
# Skyhub runs with SKYHUB_KINESIS_UNLIMITED=true (per-shard AWS limits lifted;
# the peers do not enforce them either). Servers on CPU 0, load generators on
# CPU 1 (taskset, when present). Every process is bounded in time and stopped
# by PID. Knobs: DUR (10s), PEER_DUR (5s), CONC (16), PORT_BASE (18600),
# LIMITS (/work/shared/limits), SKY_GOMAXPROCS (4).
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${DUR:-10s}
PEER_DUR=${PEER_DUR:-5s}
CONC=${CONC:-16}
PORT_BASE=${PORT_BASE:-18600}
LIMITS=${LIMITS:-/work/shared/limits}
SKY_AWS=$((PORT_BASE + 1))
MOTO=$((PORT_BASE + 10))
KINESALITE=$((PORT_BASE + 11))
FSYNC=$((PORT_BASE + 20))
BARE=$((PORT_BASE + 21))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kinbench.XXXXXX")
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

kin() { # kin <port> <Op> <json>
	curl -s -H "X-Amz-Target: Kinesis_20131202.$2" -H "Content-Type: application/x-amz-json-1.1" \
		-H "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0" \
		-H "X-Amz-Date: 20250101T000000Z" --data "$3" "http://127.0.0.1:$1/"
}

echo "# building"
go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/kinbench" ./bench/aws/kinbench
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare && go build -o "$WORK/loadgen" ./cmd/loadgen)
KL=bench/aws/node_modules/kinesalite
if [ ! -f "$KL/package.json" ]; then
	echo "# installing kinesalite 3.3.3 into $WORK/peer"
	(mkdir -p "$WORK/peer" && cd "$WORK/peer" && timeout 300 npm install --no-audit --no-fund --no-save --prefix . kinesalite@3.3.3 >/dev/null)
	KL=$WORK/peer/node_modules/kinesalite
fi
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "# starting skyhub (data in $WORK/data), moto_server, kinesalite, httpbare -fsync, httpbare"
SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$PORT_BASE SKYHUB_AWS_PORT=$SKY_AWS SKYHUB_WAMP_RAW_PORT=$((PORT_BASE + 2)) \
	SKYHUB_KINESIS_UNLIMITED=true SKYHUB_LOG_LEVEL=error GOMAXPROCS=${SKY_GOMAXPROCS:-4} \
	timeout 900 "${SPIN[@]}" "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 &
SKY_TPID=$!
PIDS+=($SKY_TPID)
timeout 900 "${SPIN[@]}" moto_server -H 127.0.0.1 -p "$MOTO" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
timeout 900 "${SPIN[@]}" node -e "require('$(realpath "$KL")')({createStreamMs: 50, deleteStreamMs: 50, updateStreamMs: 50, shardLimit: 1000}).listen($KINESALITE, '127.0.0.1')" >"$WORK/kinesalite.log" 2>&1 &
PIDS+=($!)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$FSYNC" -fsync -file "$WORK/fsync.log" -maxlife 900s >"$WORK/fsync.out" 2>&1 &
FSYNC_PID=$!
PIDS+=($FSYNC_PID)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$BARE" -maxlife 900s >"$WORK/bare.out" 2>&1 &
BARE_PID=$!
PIDS+=($BARE_PID)
wait_port "$SKY_AWS"; wait_port "$MOTO"; wait_port "$KINESALITE"; wait_port "$FSYNC"; wait_port "$BARE"
SKY_PID=$(pgrep -P "$SKY_TPID" | head -1)

RES=$WORK/results
# Raw references: the same generator against Skyhub and the bare servers.
kin "$SKY_AWS" CreateStream '{"StreamName":"skyhub-bench","ShardCount":1}' >/dev/null
kin "$SKY_AWS" CreateStream '{"StreamName":"skyhub-read","ShardCount":1}' >/dev/null
sleep 1
kin "$SKY_AWS" PutRecord '{"StreamName":"skyhub-read","PartitionKey":"device-000001","Data":"YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="}' >/dev/null
IT=$(kin "$SKY_AWS" GetShardIterator '{"StreamName":"skyhub-read","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}' |
	sed 's/.*"ShardIterator":"\([^"]*\)".*/\1/')
lgraw() { timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -c 64 -d "$DUR" "$@" | tee -a "$RES.raw"; }
lgraw -addr "127.0.0.1:$FSYNC" -name fsync-ref-c64 -serverpid "$FSYNC_PID"
lgraw -addr "127.0.0.1:$SKY_AWS" -stats "" -name raw-put-c64 -serverpid "$SKY_PID"
lgraw -addr "127.0.0.1:$BARE" -name bare-ref-c64 -serverpid "$BARE_PID"
lgraw -addr "127.0.0.1:$SKY_AWS" -stats "" -name raw-get-c64 -serverpid "$SKY_PID" \
	-H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: Kinesis_20131202.GetRecords" -body "{\"ShardIterator\":\"$IT\",\"Limit\":1}"

# The same raw generator against the peers (they need a SigV4-shaped
# Authorization header with the kinesis scope; neither verifies it).
# kinesalite also wants an X-Amz-Date header (else every answer is 400
# MissingAuthenticationToken/IncompleteSignature, which must not be counted).
AUTH="Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
ADATE="X-Amz-Date: 20250101T000000Z"
for peer in "kinesalite $KINESALITE" "moto $MOTO"; do
	set -- $peer
	kin "$2" CreateStream '{"StreamName":"skyhub-bench","ShardCount":1}' >/dev/null
	kin "$2" CreateStream '{"StreamName":"skyhub-read","ShardCount":1}' >/dev/null
	sleep 1
	kin "$2" PutRecord '{"StreamName":"skyhub-read","PartitionKey":"device-000001","Data":"YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo="}' >/dev/null
	PIT=$(kin "$2" GetShardIterator '{"StreamName":"skyhub-read","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}' |
		sed 's/.*"ShardIterator": *"\([^"]*\)".*/\1/')
	timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -c 64 -d "$PEER_DUR" -addr "127.0.0.1:$2" -stats "" -name "raw-put-c64-$1" \
		-H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: Kinesis_20131202.PutRecord" -H "$AUTH" -H "$ADATE" | tee -a "$RES.raw"
	timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -c 64 -d "$PEER_DUR" -addr "127.0.0.1:$2" -stats "" -name "raw-get-c64-$1" \
		-H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: Kinesis_20131202.GetRecords" -H "$AUTH" -H "$ADATE" \
		-body "{\"ShardIterator\":\"$PIT\",\"Limit\":1}" | tee -a "$RES.raw"
done

lg() { timeout 300 "${LPIN[@]}" "$WORK/kinbench" "$@" | tee -a "$RES"; }
for t in "skyhub $SKY_AWS $DUR" "kinesalite $KINESALITE $PEER_DUR" "moto $MOTO $PEER_DUR"; do
	set -- $t
	PIDARG=()
	if [ "$1" = skyhub ]; then PIDARG=(-pid "$SKY_PID"); fi
	# The lean raw client (runner.RawConn): server capacity without the SDK's
	# signing and JSON cost on the shared load-generator core.
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario raw-putrecords -c 4 -d "$3" "${PIDARG[@]}"
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario raw-get -limit 100 -c "$CONC" -d "$3" -prefill 5000 "${PIDARG[@]}"
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario put -c "$CONC" -d "$3"
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario putrecords -c 4 -d "$3"
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario get -limit 100 -c "$CONC" -d "$3" -prefill 5000
	lg -endpoint "http://127.0.0.1:$2" -target "$1" -scenario get -limit 1 -c "$CONC" -d "$3" -prefill 500
done

echo "# summary"
awk '
	# A run whose answers were errors measures nothing: count it as 0.
	FILENAME ~ /raw$/ && /^#/ && / non-2xx/ { n = $0; sub(/ non-2xx.*/, "", n); sub(/.* /, "", n); name = $2; sub(/:$/, "", name); if (n + 0 > 0) bad[name] = 1; next }
	FILENAME ~ /raw$/ && !/^#/ { r[$1] = $2; next }
	FILENAME ~ /raw$/ { next }
	$4 == "ops/s" || $4 == "records/s" { v[$1 " " $2] = $3 + 0; s[$1] = 1 }
	END {
		for (k in bad) { printf "# %s: every or some answer was an error; not counted\n", k; r[k] = 0 }
		for (k in s) {
			best = 0; who = ""
			if (v[k " kinesalite"] > best) { best = v[k " kinesalite"]; who = "kinesalite" }
			if (v[k " moto"] > best) { best = v[k " moto"]; who = "moto" }
			if (best > 0) printf "%s skyhub/%s = %.1fx (%.0f vs %.0f)\n", k, who, v[k " skyhub"] / best, v[k " skyhub"], best
		}
		if (r["fsync-ref-c64"] > 0) printf "raw PutRecord (durable) / httpbare-fsync = %.0f%% (%s vs %s req/s)\n", 100 * r["raw-put-c64"] / r["fsync-ref-c64"], r["raw-put-c64"], r["fsync-ref-c64"]
		if (r["bare-ref-c64"] > 0) printf "raw GetRecords / httpbare = %.0f%% (%s vs %s req/s)\n", 100 * r["raw-get-c64"] / r["bare-ref-c64"], r["raw-get-c64"], r["bare-ref-c64"]
		pb = r["raw-put-c64-kinesalite"] > r["raw-put-c64-moto"] ? r["raw-put-c64-kinesalite"] : r["raw-put-c64-moto"]
		gb = r["raw-get-c64-kinesalite"] > r["raw-get-c64-moto"] ? r["raw-get-c64-kinesalite"] : r["raw-get-c64-moto"]
		if (pb > 0) printf "raw PutRecord skyhub / best peer = %.1fx (%s vs kinesalite %s, moto %s req/s)\n", r["raw-put-c64"] / pb, r["raw-put-c64"], r["raw-put-c64-kinesalite"], r["raw-put-c64-moto"]
		if (gb > 0) printf "raw GetRecords skyhub / best peer = %.1fx (%s vs kinesalite %s, moto %s req/s)\n", r["raw-get-c64"] / gb, r["raw-get-c64"], r["raw-get-c64-kinesalite"], r["raw-get-c64-moto"]
	}' "$RES" "$RES.raw"
