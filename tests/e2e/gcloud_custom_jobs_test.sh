#!/usr/bin/env bash
# gcloud ai custom-jobs against kiln: the real client, endpoint-overridden to a local kiln.
source "$(dirname "$0")/lib.sh"
if ! command -v gcloud >/dev/null 2>&1; then
  echo "SKIPPED: gcloud is not installed; the gcloud compatibility test did not run" >&2
  exit 77
fi

TOKEN="e2e-gcloud-token-$(date +%s%N)"
READER="e2e-gcloud-reader-$(date +%s%N)"
cat >"$WORK/tokens.yaml" <<YAML
tokens:
  - token: "$TOKEN"
    projects: ["e2e-project"]
  - token: "$READER"
    projects: ["e2e-project"]
    access: read-only
YAML
printf '%s' "$TOKEN" >"$WORK/token"
printf 'wrong-token-0123456789' >"$WORK/bad-token"
start_kiln --tokens-file "$WORK/tokens.yaml"

run_gcloud() {
  local token_file="$1"; shift
  CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$ENDPOINT/" \
  CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING="$ENDPOINT/" \
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE="$token_file" \
  CLOUDSDK_CORE_PROJECT=e2e-project \
  CLOUDSDK_CONFIG="$WORK/gcloud-config" \
  CLOUDSDK_CORE_DISABLE_PROMPTS=1 \
  CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1 \
  gcloud "$@"
}

# 1. An empty list, without error.
out="$(run_gcloud "$WORK/token" ai custom-jobs list --region=us-central1 2>&1)" || fail "list failed: $out"
expect_contains "$out" "Listed 0 items." "gcloud ai custom-jobs list on an empty kiln"

IMAGE=us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest

# wait_state ID STATE: polls gcloud describe until the job is in STATE (bounded: 30 s).
wait_state() {
  local out=""
  for _ in $(seq 60); do
    out="$(run_gcloud "$WORK/token" ai custom-jobs describe "$1" --region=us-central1 --format='value(state)' 2>/dev/null || true)"
    [ "$out" = "$2" ] && return 0
    sleep 0.5
  done
  fail "job $1 did not reach $2 (last: $out)"
}

# 2. gcloud ai custom-jobs create runs a real replica; list and describe show it.
out="$(run_gcloud "$WORK/token" ai custom-jobs create --region=us-central1 --display-name=from-gcloud \
  --worker-pool-spec=machine-type=n1-standard-4,replica-count=1,container-image-uri=$IMAGE \
  --command=sleep --args=60 2>&1)" || fail "create failed: $out"
name="$(printf '%s' "$out" | grep -o 'projects/e2e-project/locations/us-central1/customJobs/[0-9]*' | head -n1)"
id="${name##*/}"
[ -n "$id" ] || fail "no job name in: $out"
wait_state "$id" JOB_STATE_RUNNING
out="$(run_gcloud "$WORK/token" ai custom-jobs list --region=us-central1 --format=json 2>&1)" || fail "list: $out"
expect_contains "$out" "\"displayName\": \"from-gcloud\"" "gcloud list shows the job"
out="$(run_gcloud "$WORK/token" ai custom-jobs describe "$id" --region=us-central1 2>&1)" || fail "describe: $out"
expect_contains "$out" "displayName: from-gcloud" "gcloud describe shows the display name"
expect_contains "$out" "state: JOB_STATE_RUNNING" "gcloud describe shows the state"

# 3. gcloud ai custom-jobs cancel: CANCELLED, error.code 1, and no process of the replica left.
pgid="$(replica_group "$WORK/home/jobs/$id/workerpool0-0/replica.pid")" || fail "the replica never recorded its process group"
kill -0 -- "-$pgid" 2>/dev/null || fail "the replica's process group $pgid is not running"
out="$(run_gcloud "$WORK/token" ai custom-jobs cancel "$id" --region=us-central1 2>&1)" || fail "cancel: $out"
wait_state "$id" JOB_STATE_CANCELLED
out="$(run_gcloud "$WORK/token" ai custom-jobs describe "$id" --region=us-central1 --format='value(error.code)' 2>/dev/null)"
[ "$out" = "1" ] || fail "a cancelled job has error.code 1, got $out"
if kill -0 -- "-$pgid" 2>/dev/null; then fail "process group $pgid outlived the cancel"; fi

# 4. A job that succeeds.
out="$(run_gcloud "$WORK/token" ai custom-jobs create --region=us-central1 --display-name=quick \
  --worker-pool-spec=machine-type=n1-standard-4,replica-count=1,container-image-uri=$IMAGE --command=true 2>&1)" \
  || fail "create: $out"
name="$(printf '%s' "$out" | grep -o 'projects/e2e-project/locations/us-central1/customJobs/[0-9]*' | head -n1)"
wait_state "${name##*/}" JOB_STATE_SUCCEEDED

# 4b. Its logs, the way gcloud reads them (Cloud Logging entries:list): stream-logs of a finished
# job prints every line with its severity and task, then stops by itself.
cat >"$WORK/talk.py" <<'PY'
import sys
for i in range(3):
    print("to stdout", i, flush=True)
    print("to stderr", i, file=sys.stderr, flush=True)
PY
out="$(run_gcloud "$WORK/token" ai custom-jobs create --region=us-central1 --display-name=talk \
  --worker-pool-spec=machine-type=n1-standard-4,replica-count=1,container-image-uri=$IMAGE \
  --command=/usr/bin/python3 --args="$WORK/talk.py" 2>&1)" || fail "create: $out"
name="$(printf '%s' "$out" | grep -o 'projects/e2e-project/locations/us-central1/customJobs/[0-9]*' | head -n1)"
talk="${name##*/}"
wait_state "$talk" JOB_STATE_SUCCEEDED
# gcloud reads entries older than 5 s only, then stops after two empty polls of a finished job.
out="$(timeout 90 bash -c "$(declare -f run_gcloud); ENDPOINT='$ENDPOINT' WORK='$WORK'
  run_gcloud '$WORK/token' ai custom-jobs stream-logs '$talk' --region=us-central1 --polling-interval=1" 2>&1)" \
  || fail "stream-logs failed or did not stop: $out"
for i in 0 1 2; do
  printf '%s\n' "$out" | grep -Eq "^INFO[[:space:]].*workerpool0-0[[:space:]]+to stdout $i\$" \
    || fail "stream-logs shows stdout line $i as INFO: $out"
  printf '%s\n' "$out" | grep -Eq "^ERROR[[:space:]].*workerpool0-0[[:space:]]+to stderr $i\$" \
    || fail "stream-logs shows stderr line $i as ERROR: $out"
done
[ "$(printf '%s\n' "$out" | grep -c 'to std')" = 6 ] || fail "stream-logs printed each line once: $out"
echo "stream-logs output:"; printf "%s\n" "$out" | head -8
# gcloud logging read (newest first by default) with a read-only token.
printf '%s' "$READER" >"$WORK/reader-token"
out="$(run_gcloud "$WORK/reader-token" logging read "resource.type=ml_job AND resource.labels.job_id=$talk AND severity=ERROR" \
  --format='value(textPayload)' 2>&1)" || fail "logging read: $out"
[ "$out" = "$(printf 'to stderr 2\nto stderr 1\nto stderr 0')" ] || fail "logging read, newest first: $out"
# A token may not read another project's logs.
code="$(curl -sS -o "$WORK/denied.json" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"resourceNames": ["projects/someone-else"]}' "$ENDPOINT/v2/entries:list")"
[ "$code" = 403 ] || fail "entries:list of another project: HTTP $code $(cat "$WORK/denied.json")"

# 5. A wrong token is refused, and gcloud says so.
if out="$(run_gcloud "$WORK/bad-token" ai custom-jobs list --region=us-central1 2>&1)"; then
  fail "a wrong token was accepted: $out"
fi
expect_contains "$out" "unknown token" "gcloud reports the 401"

# 6. Unknown resource: gcloud reports NOT_FOUND.
if out="$(run_gcloud "$WORK/token" ai custom-jobs describe 987654 --region=us-central1 2>&1)"; then
  fail "describe of an unknown job succeeded: $out"
fi
expect_contains "$out" "not found" "gcloud reports the 404"
echo "gcloud custom-jobs e2e: ok"
