#!/usr/bin/env bash
# The README's main command: set up, build, start kiln on its embedded defaults and run the
# seed's pipeline: the custom-task TrainingPipeline of examples/custom_task (the seed's REST
# body sent with curl) trains a scikit-learn model on this machine, and kiln uploads it to its
# model registry. Ends by printing the model's name and version.
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
export KILN_ENDPOINT="$endpoint" KILN_PROJECT="$project" KILN_REGION="$region" KILN_BIN="$kiln"
echo "Running the seed's custom-task TrainingPipeline (examples/custom_task/request.json, sent with curl):"
out="$(bash "$root/examples/custom_task/run.sh")"
echo "$out"
model="$(printf '%s\n' "$out" | sed -n 's/^model: \([^ ]*\) version \(.*\)$/\1/p')"
version="$(printf '%s\n' "$out" | sed -n 's/^model: \([^ ]*\) version \(.*\)$/\2/p')"
echo
echo "kiln pipelines list:"
"$kiln" pipelines list
echo
echo "kiln models versions ${model##*/}:"
"$kiln" models versions "${model##*/}"
echo
echo "The model is in the registry: $model, version $version"
