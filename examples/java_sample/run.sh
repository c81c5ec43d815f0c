#!/usr/bin/env bash
# The seed's Java sample (CreateTrainingPipelineCustomJobSample) against kiln, with curl.
#
#   bash examples/java_sample/run.sh config > /tmp/java-sample-config.yaml   # 1. kiln's config
#   kiln serve --config /tmp/java-sample-config.yaml &                        # 2. a kiln that has it
#   KILN_ENDPOINT=http://127.0.0.1:8080 [KILN_TOKEN=...] bash examples/java_sample/run.sh
#
# `config` prints config.yaml with the absolute path of examples/trainer filled in (the image
# map entry for example.com/iris-trainer:*). Without an argument the script POSTs request.json
# (the body the Java sample builds) to trainingPipelines, prints the pipeline's name as the
# sample does, waits for it (at most WAIT_SECONDS, default 300) and prints the model.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [ "${1:-}" = config ]; then
  trainer_dir="$root/examples/trainer"
  echo "# Written by examples/java_sample/run.sh config from examples/java_sample/config.yaml"
  sed -e '/^#/d' -e "s|@TRAINER_DIR@|$trainer_dir|" "$here/config.yaml"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [config]" >&2; exit 2; }

: "${KILN_ENDPOINT:?set KILN_ENDPOINT to a running kiln started with the config of this sample, e.g. http://127.0.0.1:8080}"
project="${KILN_PROJECT:-kiln-demo}"
region="${KILN_REGION:-us-central1}"
auth=()
[ -n "${KILN_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $KILN_TOKEN")
field() { /usr/bin/python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d.get(k, "") if isinstance(d, dict) else ""
print(d)' "$1"; }

# client.createTrainingPipeline(parent, trainingPipeline)
created="$(curl -sS -X POST "${auth[@]}" -H "Content-Type: application/json; charset=utf-8" \
  -d @"$here/request.json" -w '\n%{http_code}' \
  "$KILN_ENDPOINT/v1/projects/$project/locations/$region/trainingPipelines")"
code="${created##*$'\n'}"; created="${created%$'\n'*}"
if [ "$code" != 200 ]; then
  echo "create failed (HTTP $code): $created" >&2
  exit 1
fi
name="$(printf '%s' "$created" | field name)"
echo "Name: $name"

state=""
deadline=$((SECONDS + ${WAIT_SECONDS:-300}))
while [ "$SECONDS" -lt "$deadline" ]; do
  pipeline="$(curl -sS -f "${auth[@]}" "$KILN_ENDPOINT/v1/$name")"
  state="$(printf '%s' "$pipeline" | field state)"
  case "$state" in PIPELINE_STATE_SUCCEEDED|PIPELINE_STATE_FAILED|PIPELINE_STATE_CANCELLED) break ;; esac
  sleep 0.5
done
echo "state: $state"
if [ "$state" != PIPELINE_STATE_SUCCEEDED ]; then
  printf '%s\n' "$pipeline" >&2
  exit 1
fi
echo "backing CustomJob: $(printf '%s' "$pipeline" | field trainingTaskMetadata.backingCustomJob)"
model="$(printf '%s' "$pipeline" | field modelToUpload.name)"
version="$(printf '%s' "$pipeline" | field modelToUpload.versionId)"
echo "model: $model version $version"
