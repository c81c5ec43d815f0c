#!/usr/bin/env bash
# The README's main command: set up, build, start kiln on its embedded defaults and run the
# main job through the Vertex AI REST API, then show it with the kiln CLI.
#
# Today the main job is the seed's custom job (examples/custom_job/request.json): kiln runs it
# on this machine and the kiln CLI follows it to SUCCEEDED and prints its log. The seed's full
# training pipeline with the model registry follows (issue 4).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/build.sh"

kiln="$root/build/bin/kiln"
home="${KILN_HOME:-$HOME/.kiln}"
log="$(mktemp -t kiln-serve.XXXXXX.log)"
"$kiln" serve --port 0 --home "$home" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "kiln listening on" "$log" && break; sleep 0.1; done
endpoint="$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -n1)"
[ -n "$endpoint" ] || { cat "$log"; echo "kiln did not start" >&2; exit 1; }
echo "kiln is serving at $endpoint (home $home)"

project=kiln-demo
region=us-central1
echo "Submitting the seed's custom job with curl:"
created="$(curl -sS -f -X POST -H "Content-Type: application/json; charset=utf-8" \
  -d @"$root/examples/custom_job/request.json" \
  "$endpoint/v1/projects/$project/locations/$region/customJobs")"
echo "$created"
name="$(printf '%s' "$created" | grep -o '"name":"projects/[^"]*"' | head -n1 | cut -d'"' -f4)"
export KILN_ENDPOINT="$endpoint" KILN_PROJECT="$project" KILN_REGION="$region"
echo "Waiting for $name:"
"$kiln" custom-jobs wait "$name" --timeout 600 --format json
echo "Its log:"
"$kiln" custom-jobs logs "$name"
echo "kiln custom-jobs list:"
"$kiln" custom-jobs list
