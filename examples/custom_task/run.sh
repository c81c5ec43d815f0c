#!/usr/bin/env bash
# Runs the seed's custom-task TrainingPipeline against a running kiln:
#   KILN_ENDPOINT=http://127.0.0.1:PORT [KILN_TOKEN=...] bash examples/custom_task/run.sh
# 1. builds examples/trainer as an sdist (offline, Debian's setuptools) and copies it to
#    gs://kiln-demo/code/trainer-0.1.tar.gz with `kiln storage cp`;
# 2. POSTs request.json with curl, as the seed does;
# 3. waits for the pipeline and prints the model version it uploaded.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kiln="${KILN_BIN:-$root/build/bin/kiln}"
: "${KILN_ENDPOINT:?set KILN_ENDPOINT to a running kiln, e.g. http://127.0.0.1:8080}"
project="${KILN_PROJECT:-kiln-demo}"
region="${KILN_REGION:-us-central1}"
export KILN_PROJECT="$project" KILN_REGION="$region"
auth=()
[ -n "${KILN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $KILN_TOKEN")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$root/examples/trainer" "$work/trainer"
(cd "$work/trainer" && /usr/bin/python3 setup.py -q sdist --dist-dir "$work/dist" >/dev/null 2>&1) \
  || { echo "building the trainer sdist failed (is python3-setuptools installed?)" >&2; exit 1; }
"$kiln" storage cp "$work/dist/trainer-0.1.tar.gz" gs://kiln-demo/code/trainer-0.1.tar.gz

body="$work/request.json"
cp "$here/request.json" "$body"
if [ -n "${PARENT_MODEL:-}" ]; then  # a new version of an existing model
  python3 - "$body" "$PARENT_MODEL" <<'PY'
import json, sys
b = json.load(open(sys.argv[1])); b["parentModel"] = sys.argv[2]; json.dump(b, open(sys.argv[1], "w"))
PY
fi
created="$(curl -sS -f -X POST "${auth[@]}" -H "Content-Type: application/json; charset=utf-8" -d @"$body" \
  "$KILN_ENDPOINT/v1/projects/$project/locations/$region/trainingPipelines")"
name="$(printf '%s' "$created" | grep -o '"name":"projects/[^"]*/trainingPipelines/[0-9]*"' | head -n1 | cut -d'"' -f4)"
echo "TrainingPipeline: $name"

state=""
for _ in $(seq 600); do
  pipeline="$(curl -sS -f "${auth[@]}" "$KILN_ENDPOINT/v1/$name")"
  state="$(printf '%s' "$pipeline" | grep -o '"state":"PIPELINE_STATE_[A-Z]*"' | head -n1 | cut -d'"' -f4)"
  case "$state" in PIPELINE_STATE_SUCCEEDED|PIPELINE_STATE_FAILED|PIPELINE_STATE_CANCELLED) break ;; esac
  sleep 0.5
done
echo "state: $state"
if [ "$state" != PIPELINE_STATE_SUCCEEDED ]; then
  printf '%s\n' "$pipeline" >&2
  exit 1
fi
model="$(printf '%s' "$pipeline" | python3 -c 'import json,sys; m=json.load(sys.stdin)["modelToUpload"]; print(m["name"], m["versionId"])')"
echo "model: ${model% *} version ${model#* }"
