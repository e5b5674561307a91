#!/usr/bin/env bash
# Skyhub's WAMP router beside nexusd v3.3.0 (specs/wamp.md 6.4): same load
# generator (bench/wamp, nexus client), same payloads, routers pinned to
# CPU 0 and the generator to CPU 1 (when taskset exists), alternated
# A,B,A,B REPS times. Scenarios: S1 RPC 1 caller, S2 RPC 16 callers (WS
# JSON and MsgPack), S3 fan-out 1->16 (20k events), S5 burst 1->256 (2000
# events: lost counts).
#   bench/wamp/run.sh            # REPS=3 DUR=4s
set -euo pipefail
cd "$(dirname "$0")/../.."
REPS=${REPS:-3}
DUR=${DUR:-4s}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/wamp-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
pin() { if command -v taskset >/dev/null; then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

go build -o "$WORK/skyhub" ./cmd/skyhub
go build -o "$WORK/nexusd" github.com/gammazero/nexus/v3/nexusd
go build -o "$WORK/load" ./bench/wamp

SP=$(freeport); SR=$(freeport); NP=$(freeport); NR=$(freeport)
SKYHUB_HOST=127.0.0.1 SKYHUB_PORT=$SP SKYHUB_AWS_PORT=0 SKYHUB_WAMP_RAW_PORT=$SR SKYHUB_LOG_LEVEL=warn \
	pin 0 "$WORK/skyhub" serve -data "$WORK/data" >"$WORK/skyhub.log" 2>&1 & PIDS+=($!)
SKY=$!
pin 0 "$WORK/nexusd" --realm realm1 --ws "127.0.0.1:$NP" --tcp "127.0.0.1:$NR" >"$WORK/nexusd.log" 2>&1 & PIDS+=($!)
NEX=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$SP/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5

cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
declare -A URL=([skyhub-ws]="ws://127.0.0.1:$SP/ws" [nexus-ws]="ws://127.0.0.1:$NP/" [skyhub-raw]="tcp://127.0.0.1:$SR" [nexus-raw]="tcp://127.0.0.1:$NR")
declare -A PID=([skyhub]=$SKY [nexus]=$NEX)
lg() { # router transport label args...
	local r=$1 t=$2 label=$3; shift 3
	local c0; c0=$(cpu "${PID[$r]}")
	local out; out=$(pin 1 timeout 120 "$WORK/load" -url "${URL[$r-$t]}" -name "$r-$label" "$@")
	echo "$out cpu_ticks=$(( $(cpu "${PID[$r]}") - c0 ))" | tee -a "$WORK/results"
}

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); routers on CPU 0, generator on CPU 1"
for rep in $(seq "$REPS"); do
	for r in skyhub nexus; do
		lg $r ws S1-rpc-c1-json -mode rpc -c 1 -d "$DUR" -ser json
		lg $r ws S2-rpc-c16-json -mode rpc -c 16 -d "$DUR" -ser json
		lg $r ws S2-rpc-c16-msgpack -mode rpc -c 16 -d "$DUR" -ser msgpack
		lg $r raw S2-rpc-c16-raw-msgpack -mode rpc -c 16 -d "$DUR" -ser msgpack
		lg $r ws S3-fanout16-json -mode pubsub -subs 16 -n 20000 -ser json
		lg $r ws S3-fanout16-msgpack -mode pubsub -subs 16 -n 20000 -ser msgpack
		lg $r ws S5-burst256-msgpack -mode pubsub -subs 256 -n 2000 -ser msgpack
	done
done
echo "# medians over $REPS reps (value, p99) and skyhub/nexus ratio"
awk '{split($1,a,"-"); r=a[1]; s=substr($1,length(r)+2); v[s,r]=v[s,r]" "$2; p[s,r]=p[s,r]" "substr($5,5); u[s]=$3; seen[s]=1}
function med(str,   n,arr,i,j,t){n=split(str,arr," "); for(i=1;i<=n;i++)for(j=i+1;j<=n;j++)if(arr[j]+0<arr[i]+0){t=arr[i];arr[i]=arr[j];arr[j]=t}; return arr[int((n+1)/2)]}
END{for(s in seen){x=med(v[s,"skyhub"]);y=med(v[s,"nexus"]); printf "%-28s skyhub %10s nexus %10s %s ratio %.2f  p99s skyhub [%s ] nexus [%s ]\n", s, x, y, u[s], (y>0?x/y:0), p[s,"skyhub"], p[s,"nexus"]}}' "$WORK/results" | sort
echo "# drops in router logs: skyhub $(grep -ci 'drop' "$WORK/skyhub.log" || true), nexus $(grep -ci 'dropped' "$WORK/nexusd.log" || true)"
