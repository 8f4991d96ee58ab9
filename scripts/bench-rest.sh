#!/usr/bin/env bash
# Benchmark of the foundation (issue 2): startup time to the first 200 on
# /overview, idle resident memory with one TaskManager, and wrk throughput and
# latency on /overview and /jobs/overview while a job runs.
#
#   cargo build --release && scripts/bench-rest.sh [port]
#
# Needs wrk (apt-get install wrk). Binds 127.0.0.1 only; stops what it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-18081}
BIN=target/release/rivulet
BASE=http://127.0.0.1:$PORT
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }

start_ns=$(date +%s%N)
"$BIN" standalone --no-demo -D rest.port="$PORT" >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
until curl -sf -o /dev/null "$BASE/overview"; do :; done
end_ns=$(date +%s%N)
echo "first 200 on /overview: $(( (end_ns - start_ns) / 1000000 )) ms after process start"

sleep 2
echo "idle resident memory: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$PID/status)"

JOB=$(mktemp)
cat > "$JOB" <<'JSON'
{"name": "bench-load", "parallelism": 1,
 "vertices": [
   {"id": "src", "operators": [{"type": "generator", "rate": 100000}]},
   {"id": "count", "operators": [{"type": "keyed_count", "key": "key"}, {"type": "discard_sink"}]}],
 "edges": [{"from": "src", "to": "count", "strategy": "hash", "key": "key"}]}
JSON
curl -sf -F 'request={"executionPlanFileName":"job.json"};type=text/plain' \
     -F "file_0=@$JOB;filename=job.json" "$BASE/jobs" >/dev/null
rm -f "$JOB"
sleep 1
echo "running jobs: $(curl -s "$BASE/overview")"
for path in /overview /jobs/overview; do
  echo "== wrk -t2 -c32 -d10s --latency $BASE$path"
  wrk -t2 -c32 -d10s --latency "$BASE$path" | grep -E 'Requests/sec|50%|99%|Non-2xx|Socket errors' || true
done
echo "resident memory after load: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$PID/status)"
curl -s -X DELETE "$BASE/cluster" >/dev/null
wait $PID && echo "exit code 0 after DELETE /cluster"
trap - EXIT
