#!/usr/bin/env bash
# gcloud ai models against kiln: upload (gcloud polls the Operation), list, describe, list-version.
source "$(dirname "$0")/lib.sh"
if ! command -v gcloud >/dev/null 2>&1; then
  echo "SKIPPED: gcloud is not installed; the gcloud models test did not run" >&2
  exit 77
fi
start_kiln
mkdir -p "$WORK/home/storage/gm-bucket/run1"
echo "weights v1" >"$WORK/home/storage/gm-bucket/run1/model.txt"
printf 'e2e-token' >"$WORK/token"

run_gcloud() {
  CLOUDSDK_API_ENDPOINT_OVERRIDES_AIPLATFORM="$ENDPOINT/" CLOUDSDK_AUTH_ACCESS_TOKEN_FILE="$WORK/token" \
  CLOUDSDK_CORE_PROJECT=gm-project CLOUDSDK_CONFIG="$WORK/gcloud-config" CLOUDSDK_CORE_DISABLE_PROMPTS=1 \
  CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=1 timeout 120 gcloud "$@"
}

out="$(run_gcloud ai models upload --region=us-central1 --display-name=gm-model \
  --container-image-uri=us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest \
  --artifact-uri=gs://gm-bucket/run1/ 2>&1)" || fail "gcloud ai models upload: $out"
out="$(run_gcloud ai models list --region=us-central1 2>&1)" || fail "list: $out"
expect_contains "$out" "gm-model" "gcloud ai models list shows the uploaded model"
id="$(printf '%s\n' "$out" | awk '$2 == "gm-model" {print $1}' | head -n1)"
[ -n "$id" ] || fail "no model id in: $out"

out="$(run_gcloud ai models describe "$id" --region=us-central1 2>&1)" || fail "describe: $out"
expect_contains "$out" "displayName: gm-model" "describe shows the display name"
expect_contains "$out" "versionId: '1'" "describe shows the version"
expect_contains "$out" "- default" "version 1 holds the default alias"
expect_contains "$out" "artifactUri: gs://kiln-registry/" "artifacts were snapshotted into the registry"

# A second version through the REST API, as a pipeline with parentModel would make it.
echo "weights v2" >"$WORK/home/storage/gm-bucket/run1/model.txt"
curl -sS -f -X POST -H "Content-Type: application/json" \
  -d "{\"parentModel\": \"projects/gm-project/locations/us-central1/models/$id\", \"model\": {\"displayName\": \"gm-model\", \"artifactUri\": \"gs://gm-bucket/run1/\"}}" \
  "$ENDPOINT/v1/projects/gm-project/locations/us-central1/models:upload" >/dev/null || fail "second upload"
out="$(run_gcloud ai models list-version "$id" --region=us-central1 2>&1)" || fail "list-version: $out"
[ "$(printf '%s\n' "$out" | awk -v id="$id" '$1 == id' | wc -l)" -eq 2 ] || fail "two versions expected: $out"
# Version 1 is immutable: its snapshot still holds v1's bytes.
v1="$(run_gcloud ai models describe "$id@1" --region=us-central1 --format='value(artifactUri)' 2>/dev/null)"
got="$("$KILN_BIN" storage cat "${v1%/}/model.txt" --endpoint "$ENDPOINT")" || fail "storage cat"
[ "$got" = "weights v1" ] || fail "version 1 changed after the source was rewritten: '$got'"
echo "gcloud models e2e: ok"
