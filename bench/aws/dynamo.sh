#!/usr/bin/env bash
# DynamoDB benchmarks: Skyhub, dynalite (npm, in-memory) and moto_server in
# the same run, beside the machine's references from /work/shared/limits
# (httpbare, and httpbare -fsync for durable writes):
#
#   ddb-put/get/query-cN   aws-sdk-go-v2 PutItem (new item, 200-byte payload),
#                          GetItem (random prefilled item), Query (10 items of
#                          a random partition) against each server
#   ddb-rawput-c64         prebuilt PutItem JSON, a distinct key per request,
#                          plain keep-alive HTTP (no SDK cost): Skyhub vs the
#                          same generator against httpbare -fsync
#   ddb-rawget-c64         prebuilt GetItem JSON: Skyhub vs httpbare
#   ddb-rawquery-c64       prebuilt Query JSON (10 items); the raw scenarios
#                          also run against dynalite and moto
#   fsync-ref-c64          the limits load generator against httpbare -fsync
#                          (the canonical durable-write reference)
#
# Each line also gives the server's CPU time per operation, read from /proc
# over the measured window: on a busy machine throughput ratios swing
# widely, CPU per operation much less.
#
# Servers on CPU 0, load generators on CPU 1 (taskset, when present). Every
# process is bounded in time and stopped by PID. dynalite is installed with
# npm into bench/aws/node_modules (git-ignored) when missing. Knobs: DUR
# (default 10s), PEER_DUR (5s), CONC (16), PORT_BASE (18600), LIMITS
# (/work/shared/limits), SKY_GOMAXPROCS (4; see sqs.sh for why).
set -euo pipefail
cd "$(dirname "$0")/../.."

DUR=${DUR:-10s}
PEER_DUR=${PEER_DUR:-5s}
CONC=${CONC:-16}
PORT_BASE=${PORT_BASE:-18600}
LIMITS=${LIMITS:-/work/shared/limits}
SKY_AWS=$((PORT_BASE + 1))
DYNALITE=$((PORT_BASE + 10))
MOTO=$((PORT_BASE + 11))
BARE=$((PORT_BASE + 20))
FSYNC=$((PORT_BASE + 21))

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ddbbench.XXXXXX")
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
		sleep 0.1
	done
	echo "port $1 did not open" >&2
	return 1
}

echo "# building"
go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/ddbbench" ./bench/aws/ddbbench
(cd "$LIMITS" && go build -o "$WORK/httpbare" ./cmd/httpbare && go build -o "$WORK/loadgen" ./cmd/loadgen)
if [ ! -x bench/aws/node_modules/.bin/dynalite ]; then
	echo "# installing dynalite 4.0.0 into bench/aws/node_modules"
	(cd bench/aws && timeout 300 npm install --no-audit --no-fund --no-save --prefix . dynalite@4.0.0 >/dev/null)
fi
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"

echo "# starting skyhub (data in $WORK/data), dynalite, moto_server, httpbare, httpbare -fsync"
SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$PORT_BASE SKYHUB_AWS_PORT=$SKY_AWS SKYHUB_WAMP_RAW_PORT=$((PORT_BASE + 2)) \
	SKYHUB_LOG_LEVEL=error GOMAXPROCS=${SKY_GOMAXPROCS:-4} timeout 900 "${SPIN[@]}" "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 &
SKY_TPID=$!
PIDS+=($SKY_TPID)
timeout 900 "${SPIN[@]}" node bench/aws/node_modules/.bin/dynalite --host 127.0.0.1 --port "$DYNALITE" >"$WORK/dynalite.log" 2>&1 &
DYN_TPID=$!
PIDS+=($DYN_TPID)
timeout 900 "${SPIN[@]}" moto_server -H 127.0.0.1 -p "$MOTO" >"$WORK/moto.log" 2>&1 &
MOTO_TPID=$!
PIDS+=($MOTO_TPID)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$BARE" -maxlife 900s >"$WORK/bare.log" 2>&1 &
BARE_PID=$!
PIDS+=($BARE_PID)
"${SPIN[@]}" "$WORK/httpbare" -addr "127.0.0.1:$FSYNC" -fsync -file "$WORK/fsync.log" -maxlife 900s >"$WORK/fsync.out" 2>&1 &
FSYNC_PID=$!
PIDS+=($FSYNC_PID)
wait_port "$SKY_AWS"; wait_port "$DYNALITE"; wait_port "$MOTO"; wait_port "$BARE"; wait_port "$FSYNC"
SKY_PID=$(pgrep -P "$SKY_TPID" | head -1 || true)
DYN_PID=$(pgrep -P "$DYN_TPID" | head -1 || true)
MOTO_PID=$(pgrep -P "$MOTO_TPID" | head -1 || true)
echo "# server PIDs: skyhub ${SKY_PID:-?} dynalite ${DYN_PID:-?} moto ${MOTO_PID:-?}"

RES=$WORK/results
lg() { timeout 400 "${LPIN[@]}" "$WORK/ddbbench" "$@" | tee -a "$RES"; }

# References and raw Skyhub figures (same generator, same load).
timeout 120 "${LPIN[@]}" "$WORK/loadgen" http -addr "127.0.0.1:$FSYNC" -c 64 -d "$DUR" -name fsync-ref-c64 -serverpid "$FSYNC_PID" | tee -a "$RES.limits"
lg -endpoint "http://127.0.0.1:$FSYNC" -notable -target fsync-ref -scenario rawput -c 64 -d "$DUR" -serverpid "$FSYNC_PID"
lg -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario rawput -c 64 -d "$DUR" -serverpid "${SKY_PID:-0}"
lg -endpoint "http://127.0.0.1:$BARE" -notable -target bare-ref -scenario rawget -c 64 -d "$DUR" -serverpid "$BARE_PID"
lg -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario rawget -c 64 -d "$DUR" -prefill 20000 -serverpid "${SKY_PID:-0}"

# Raw scenarios against the peers (server capacity without SDK cost).
lg -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario rawquery -c 64 -d "$DUR" -prefill 20000 -serverpid "${SKY_PID:-0}"
for sc in rawput rawget rawquery; do
	lg -endpoint "http://127.0.0.1:$DYNALITE" -target dynalite -scenario $sc -c 64 -d "$PEER_DUR" -prefill 5000 -serverpid "${DYN_PID:-0}"
	lg -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario $sc -c 64 -d "$PEER_DUR" -prefill 2000 -serverpid "${MOTO_PID:-0}"
done

# SDK scenarios against every server.
for sc in put get query; do
	lg -endpoint "http://127.0.0.1:$SKY_AWS" -target skyhub -scenario $sc -c "$CONC" -d "$DUR" -prefill 20000
	lg -endpoint "http://127.0.0.1:$DYNALITE" -target dynalite -scenario $sc -c "$CONC" -d "$PEER_DUR" -prefill 5000
	lg -endpoint "http://127.0.0.1:$MOTO" -target moto -scenario $sc -c "$CONC" -d "$PEER_DUR" -prefill 2000
done

echo "# summary"
awk '
	BEGIN { tg[1] = "fsync-ref"; tg[2] = "bare-ref"; tg[3] = "dynalite"; tg[4] = "moto" }
	{ v[$1 " " $2] = $3; s[$1] = 1; if ($6 != "-" && $6 != "") c[$1 " " $2] = $6 }
	END {
		for (k in s) for (t in tg) if (c[k " " tg[t]] > 0 && c[k " skyhub"] > 0 && tg[t] != "skyhub") printf "%s server CPU per op: skyhub %s us, %s %s us (%s/skyhub = %.2f)\n", k, c[k " skyhub"], tg[t], c[k " " tg[t]], tg[t], c[k " " tg[t]] / c[k " skyhub"]
		if (v["ddb-rawput-c64 fsync-ref"] > 0) printf "durable PutItem / httpbare-fsync = %.0f%% (%s vs %s req/s)\n", 100 * v["ddb-rawput-c64 skyhub"] / v["ddb-rawput-c64 fsync-ref"], v["ddb-rawput-c64 skyhub"], v["ddb-rawput-c64 fsync-ref"]
		if (v["ddb-rawget-c64 bare-ref"] > 0) printf "GetItem / httpbare = %.0f%% (%s vs %s req/s)\n", 100 * v["ddb-rawget-c64 skyhub"] / v["ddb-rawget-c64 bare-ref"], v["ddb-rawget-c64 skyhub"], v["ddb-rawget-c64 bare-ref"]
		for (k in s) {
			best = 0; who = ""
			if (v[k " dynalite"] > best) { best = v[k " dynalite"]; who = "dynalite" }
			if (v[k " moto"] > best) { best = v[k " moto"]; who = "moto" }
			if (best > 0 && v[k " skyhub"] > 0) printf "%s skyhub/best peer (%s) = %.1fx (%s vs %s ops/s; moto %s)\n", k, who, v[k " skyhub"] / best, v[k " skyhub"], best, v[k " moto"]
		}
	}' "$RES"
grep -h fsync-ref-c64 "$RES.limits" | sed 's/^/limits: /' || true
