#!/usr/bin/env bash
# The seed's custom-task TrainingPipeline end to end, against a real kiln:
#  1. the seed's REST body via curl (examples/custom_task) → SUCCEEDED → model version 1, alias default;
#  2. the same pipeline with parentModel → version 2 of the same model;
#  3. modelToUpload.artifactUri wins over baseOutputDirectory;
#  4. a job that writes no model → FAILED, the message naming the URI;
#  5. cancel mid-run → CANCELLED, no replica left;
#  6. kill -9 of kiln mid-pipeline → restart → SUCCEEDED with exactly one model version.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIPPED: /usr/bin/python3 (Debian's) is missing" >&2; exit 77; }
/usr/bin/python3 -c 'import sklearn, joblib, setuptools' 2>/dev/null \
  || { echo "SKIPPED: Debian's python3-sklearn/python3-setuptools are missing" >&2; exit 77; }
ROOT="$KILN_SOURCE_DIR"
start_kiln
export KILN_ENDPOINT="$ENDPOINT" KILN_PROJECT=kiln-demo KILN_REGION=us-central1 XDG_CONFIG_HOME="$WORK/xdg"
API="$ENDPOINT/v1/projects/kiln-demo/locations/us-central1"
IMAGE=us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest
TASK=gs://google-cloud-aiplatform/schema/trainingjob/definition/custom_task_1.0.0.yaml

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d.get(k, {}) if isinstance(d, dict) else {}
print(d if not isinstance(d, (dict, list)) else json.dumps(d))' "$1"; }
pipeline_state() { curl -sS "$ENDPOINT/v1/$1" | json_field state; }
wait_pipeline() {  # wait_pipeline NAME STATE [tries of 0.2 s]
  for _ in $(seq "${3:-600}"); do [ "$(pipeline_state "$1")" = "$2" ] && return 0; sleep 0.2; done
  fail "$1 did not reach $2: $(curl -sS "$ENDPOINT/v1/$1")"
}
post_pipeline() { curl -sS -f -X POST -H "Content-Type: application/json" -d @- "$API/trainingPipelines" | json_field name; }

# 1. The seed's body via curl.
out="$(KILN_BIN="$KILN_BIN" bash "$ROOT/examples/custom_task/run.sh" 2>&1)" || fail "seed pipeline: $out"
expect_contains "$out" "state: PIPELINE_STATE_SUCCEEDED" "the seed's pipeline succeeds"
model="$(printf '%s\n' "$out" | sed -n 's/^model: \([^ ]*\) version \(.*\)$/\1/p')"
version="$(printf '%s\n' "$out" | sed -n 's/^model: \([^ ]*\) version \(.*\)$/\2/p')"
[ "$version" = 1 ] || fail "first upload is version 1, got '$version' ($out)"
m="$(curl -sS -f "$ENDPOINT/v1/$model")"
[ "$(printf '%s' "$m" | json_field displayName)" = iris-model ] || fail "model: $m"
expect_contains "$(printf '%s' "$m" | json_field versionAliases)" '"default"' "version 1 holds alias default"
artifacts="$(printf '%s' "$m" | json_field artifactUri)"
expect_contains "$artifacts" "gs://kiln-registry/" "the version's artifacts live in registry storage"

# 2. parentModel → version 2.
out="$(PARENT_MODEL="$model" KILN_BIN="$KILN_BIN" bash "$ROOT/examples/custom_task/run.sh" 2>&1)" || fail "v2: $out"
expect_contains "$out" "model: $model version 2" "parentModel makes version 2"
versions="$(curl -sS -f "$ENDPOINT/v1/$model:listVersions")"
[ "$(printf '%s' "$versions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["models"]))')" = 2 ] \
  || fail "two versions expected: $versions"

# 3. artifactUri wins: the job writes a marker only there.
name="$(post_pipeline <<JSON
{"displayName": "precedence", "trainingTaskDefinition": "$TASK",
 "trainingTaskInputs": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
   "containerSpec": {"imageUri": "$IMAGE", "command": ["python3", "-c",
   "import os; d='$WORK/home/storage/kiln-demo/elsewhere/'; os.makedirs(d, exist_ok=True); open(d+'marker.txt','w').write('from artifactUri')"]}}],
   "baseOutputDirectory": {"outputUriPrefix": "gs://kiln-demo/precedence"}},
 "modelToUpload": {"displayName": "precedence-model", "artifactUri": "gs://kiln-demo/elsewhere/"}}
JSON
)"
wait_pipeline "$name" PIPELINE_STATE_SUCCEEDED
pm="$(curl -sS "$ENDPOINT/v1/$name" | json_field modelToUpload.name)"
uri="$(curl -sS "$ENDPOINT/v1/$pm" | json_field artifactUri)"
out="$("$KILN_BIN" storage cat "${uri%/}/marker.txt" 2>&1)" || fail "cat marker: $out"
[ "$out" = "from artifactUri" ] || fail "artifactUri should win: got '$out'"

# 4. No artifacts → FAILED naming the URI.
name="$(post_pipeline <<JSON
{"displayName": "no-model", "trainingTaskDefinition": "$TASK",
 "trainingTaskInputs": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
   "containerSpec": {"imageUri": "$IMAGE", "command": ["true"]}}],
   "baseOutputDirectory": {"outputUriPrefix": "gs://kiln-demo/empty"}},
 "modelToUpload": {"displayName": "never"}}
JSON
)"
wait_pipeline "$name" PIPELINE_STATE_FAILED
expect_contains "$(curl -sS "$ENDPOINT/v1/$name" | json_field error.message)" "gs://kiln-demo/empty/model/" \
  "the failure names the artifact URI"

# 5. Cancel mid-run.
name="$(post_pipeline <<JSON
{"displayName": "cancel-me", "trainingTaskDefinition": "$TASK",
 "trainingTaskInputs": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
   "containerSpec": {"imageUri": "$IMAGE", "command": ["sleep", "60"]}}],
   "baseOutputDirectory": {"outputUriPrefix": "gs://kiln-demo/cancel"}},
 "modelToUpload": {"displayName": "never"}}
JSON
)"
wait_pipeline "$name" PIPELINE_STATE_RUNNING
job="$(curl -sS "$ENDPOINT/v1/$name" | json_field trainingTaskMetadata.backingCustomJob)"
pgid="$(replica_group "$WORK/home/jobs/${job##*/}/workerpool0-0/replica.pid")" || fail "the replica never recorded its process group"
curl -sS -f -X POST -H "Content-Type: application/json" -d '{}' "$ENDPOINT/v1/$name:cancel" >/dev/null
wait_pipeline "$name" PIPELINE_STATE_CANCELLED
[ "$(curl -sS "$ENDPOINT/v1/$name" | json_field error.code)" = 1 ] || fail "cancelled pipelines carry error.code 1"
if kill -0 -- "-$pgid" 2>/dev/null; then fail "replica group $pgid outlived the cancel"; fi

# 6. kill -9 of kiln mid-pipeline, restart: SUCCEEDED with exactly one model version.
name="$(post_pipeline <<JSON
{"displayName": "survivor", "trainingTaskDefinition": "$TASK",
 "trainingTaskInputs": {"workerPoolSpecs": [{"machineSpec": {"machineType": "n1-standard-4"}, "replicaCount": "1",
   "containerSpec": {"imageUri": "$IMAGE", "command": ["python3", "-c",
   "import os, time; open('$WORK/survivor.starts','a').write('start\\\\n'); time.sleep(2); open(os.environ['AIP_MODEL_DIR']+'model.txt','w').write('m')"]}}],
   "baseOutputDirectory": {"outputUriPrefix": "gs://kiln-demo/survivor"}},
 "modelToUpload": {"displayName": "survivor-model"}}
JSON
)"
wait_pipeline "$name" PIPELINE_STATE_RUNNING
kill -KILL "$KILN_PID"; wait "$KILN_PID" 2>/dev/null || true
sleep 0.5
start_kiln
export KILN_ENDPOINT="$ENDPOINT"
wait_pipeline "$name" PIPELINE_STATE_SUCCEEDED
[ "$(wc -l <"$WORK/survivor.starts")" -eq 1 ] || fail "the replica started $(wc -l <"$WORK/survivor.starts") times"
sm="$(curl -sS "$ENDPOINT/v1/$name" | json_field modelToUpload.name)"
n="$(curl -sS "$ENDPOINT/v1/$sm:listVersions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["models"]))')"
[ "$n" = 1 ] || fail "exactly one model version after the restart, got $n"
echo "pipeline e2e: ok"
