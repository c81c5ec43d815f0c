#!/usr/bin/env bash
# kill -9 of kiln mid-job: the replicas keep running under their shims, a new kiln on the same
# home adopts them, and each job ends SUCCEEDED with its replica started exactly once — one
# finishing while kiln is down, one after the restart.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIPPED: /usr/bin/python3 missing" >&2; exit 77; }
start_kiln
API="$ENDPOINT/v1/projects/rs/locations/us-central1/customJobs"

create() {  # create NAME SECONDS: a job that records each start in $WORK/NAME.starts, then sleeps
  curl -sS -f -X POST -H "Content-Type: application/json" "$API" -d @- <<JSON | grep -o '"name":"projects/[^"]*"' | head -n1 | sed 's/"name":"\(.*\)"/\1/'
{"displayName": "$1", "jobSpec": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"},
  "replicaCount": "1", "containerSpec": {"imageUri": "us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest",
  "command": ["python3", "-c", "import os, time; open(os.environ['MARK'], 'a').write('start\\\\n'); time.sleep($2)"],
  "env": [{"name": "MARK", "value": "$WORK/$1.starts"}]}}]}}
JSON
}
state_of() { curl -sS "$ENDPOINT/v1/$1" | sed -n 's/.*"state":"\([A-Z_]*\)".*/\1/p'; }
wait_for() {  # wait_for NAME STATE [tries of 0.1 s]
  for _ in $(seq "${3:-300}"); do [ "$(state_of "$1")" = "$2" ] && return 0; sleep 0.1; done
  fail "$1 did not reach $2 (is $(state_of "$1"))"
}

short="$(create short 1)"
long="$(create long 4)"
[ -n "$short" ] && [ -n "$long" ] || fail "create failed"
wait_for "$short" JOB_STATE_RUNNING
wait_for "$long" JOB_STATE_RUNNING
for _ in $(seq 50); do [ -s "$WORK/long.starts" ] && [ -s "$WORK/short.starts" ] && break; sleep 0.1; done

pgid="$(replica_group "$WORK/home/jobs/${long##*/}/workerpool0-0/replica.pid")" || fail "the replica never recorded its process group"
kill -KILL "$KILN_PID"
wait "$KILN_PID" 2>/dev/null || true
kill -0 -- "-$pgid" 2>/dev/null || fail "the replica died with kiln"
sleep 1.5   # the short job's replica ends while no kiln is running

start_kiln
wait_for "$short" JOB_STATE_SUCCEEDED 100
wait_for "$long" JOB_STATE_SUCCEEDED 100
[ "$(wc -l <"$WORK/short.starts")" -eq 1 ] || fail "short job started $(wc -l <"$WORK/short.starts") times"
[ "$(wc -l <"$WORK/long.starts")" -eq 1 ] || fail "long job started $(wc -l <"$WORK/long.starts") times"
if kill -0 -- "-$pgid" 2>/dev/null; then fail "process group $pgid outlived its job"; fi
echo "restart e2e: ok"
