#!/usr/bin/env bash
# gcloud ai custom-jobs against kiln: the real client, endpoint-overridden to a local kiln.
source "$(dirname "$0")/lib.sh"
if ! command -v gcloud >/dev/null 2>&1; then
  echo "SKIPPED: gcloud is not installed; the gcloud compatibility test did not run" >&2
  exit 77
fi

TOKEN="e2e-gcloud-token-$(date +%s%N)"
cat >"$WORK/tokens.yaml" <<YAML
tokens:
  - token: "$TOKEN"
    projects: ["e2e-project"]
YAML
printf '%s' "$TOKEN" >"$WORK/token"
printf 'wrong-token-0123456789' >"$WORK/bad-token"
start_kiln --tokens-file "$WORK/tokens.yaml"

run_gcloud() {
  local token_file="$1"; shift
  CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$ENDPOINT/" \
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

# 2. A job created over REST shows up in list and describe.
curl -sS -f -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
  -d '{"displayName":"from-curl","jobSpec":{"workerPoolSpecs":[{"machineSpec":{"machineType":"n1-standard-4"},"replicaCount":"1","containerSpec":{"imageUri":"us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest","command":["true"]}}]}}' \
  "$ENDPOINT/v1/projects/e2e-project/locations/us-central1/customJobs" >"$WORK/created.json" || fail "curl create failed"
name="$(sed -n 's/.*"name":"\([^"]*\)".*/\1/p' "$WORK/created.json")"
id="${name##*/}"
[ -n "$id" ] || fail "no id in $(cat "$WORK/created.json")"

out="$(run_gcloud "$WORK/token" ai custom-jobs list --region=us-central1 --format=json 2>&1)" || fail "list: $out"
expect_contains "$out" "\"displayName\": \"from-curl\"" "gcloud list shows the job"
out="$(run_gcloud "$WORK/token" ai custom-jobs describe "$id" --region=us-central1 2>&1)" || fail "describe: $out"
expect_contains "$out" "state: JOB_STATE_QUEUED" "gcloud describe shows the state"
expect_contains "$out" "displayName: from-curl" "gcloud describe shows the display name"

# 3. A wrong token is refused, and gcloud says so.
if out="$(run_gcloud "$WORK/bad-token" ai custom-jobs list --region=us-central1 2>&1)"; then
  fail "a wrong token was accepted: $out"
fi
expect_contains "$out" "unknown token" "gcloud reports the 401"

# 4. Unknown resource: gcloud reports NOT_FOUND.
if out="$(run_gcloud "$WORK/token" ai custom-jobs describe 987654 --region=us-central1 2>&1)"; then
  fail "describe of an unknown job succeeded: $out"
fi
expect_contains "$out" "not found" "gcloud reports the 404"
echo "gcloud custom-jobs e2e: ok"
