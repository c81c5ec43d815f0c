#!/usr/bin/env bash
# The kiln CLI client against a real `kiln serve`: list, describe, cancel, errors, exit codes.
source "$(dirname "$0")/lib.sh"
start_kiln
export KILN_ENDPOINT="$ENDPOINT" KILN_PROJECT=cli-project KILN_REGION=us-central1 XDG_CONFIG_HOME="$WORK/xdg"

out="$("$KILN_BIN" custom-jobs list 2>&1)" || fail "list failed: $out"
expect_contains "$out" "Listed 0 items." "empty list"

curl -sS -f -X POST -H "Content-Type: application/json" \
  -d '{"displayName":"cli-job","jobSpec":{"workerPoolSpecs":[{"replicaCount":"1","containerSpec":{"imageUri":"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest","command":["sleep","60"]}}]}}' \
  "$ENDPOINT/v1/projects/cli-project/locations/us-central1/customJobs" >/dev/null || fail "create"

out="$("$KILN_BIN" custom-jobs list 2>&1)" || fail "list: $out"
expect_contains "$out" "cli-job" "table list shows the job"
expect_contains "$out" "JOB_STATE_" "table list shows the state"
out="$("$KILN_BIN" custom-jobs describe 1 --format=json)" || fail "describe: $out"
expect_contains "$out" "\"displayName\": \"cli-job\"" "describe by id"
"$KILN_BIN" custom-jobs cancel 1 2>/dev/null || fail "cancel"
out="$("$KILN_BIN" custom-jobs describe projects/cli-project/locations/us-central1/customJobs/1)" || fail "describe by name"
case "$out" in *JOB_STATE_CANCELLING*|*JOB_STATE_CANCELLED*) ;; *) fail "cancel did not move the job: $out" ;; esac

set +e
out="$("$KILN_BIN" custom-jobs describe 4242 2>&1)"; rc=$?
set -e
[ "$rc" -eq 1 ] || fail "describe of a missing job exited $rc, want 1"
expect_contains "$out" "NOT_FOUND" "error is reported"
echo "kiln CLI e2e: ok"
