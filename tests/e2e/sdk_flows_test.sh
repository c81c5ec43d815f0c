#!/usr/bin/env bash
# The seed's three Python SDK flows as kiln CLI commands, end to end (examples/sdk_flows/run.sh),
# against a kiln started with the flows' config (image map + a fake inventory of one T4):
#  (a) CustomPythonPackageTrainingJob → SUCCEEDED, a new model, version 1;
#  (b) CustomTrainingJob (script) with --parent-model=(a) → SUCCEEDED, version 2 of (a)'s model;
#  (c) CustomContainerTrainingJob on NVIDIA_TESLA_T4 x1 → SUCCEEDED, the replica saw
#      CUDA_VISIBLE_DEVICES=0;
# and for each: the SDK parameters reached the pipeline (labels, args, machine spec, serving
# image), the trainer ran with the args, and the model version holds model.joblib.
source "$(dirname "$0")/lib.sh"
[ -x /usr/bin/python3 ] || { echo "SKIPPED: /usr/bin/python3 (Debian's) is missing" >&2; exit 77; }
/usr/bin/python3 -c 'import sklearn, joblib, setuptools' 2>/dev/null \
  || { echo "SKIPPED: Debian's python3-sklearn/python3-setuptools are missing" >&2; exit 77; }
command -v timeout >/dev/null || { echo "SKIPPED: coreutils' timeout is missing" >&2; exit 77; }
ROOT="$KILN_SOURCE_DIR"
FLOWS="$ROOT/examples/sdk_flows"
t0=$SECONDS

bash "$FLOWS/run.sh" config >"$WORK/config.yaml" || fail "run.sh config"
start_kiln --config "$WORK/config.yaml"
grep -qh "1 accelerator type(s), 1 image map entr" "$WORK/serve.out" "$WORK/serve.err" \
  || fail "kiln did not load the flows' config: $(cat "$WORK/serve.out" "$WORK/serve.err")"
export KILN_ENDPOINT="$ENDPOINT" KILN_PROJECT=kiln-demo KILN_REGION=us-central1 XDG_CONFIG_HOME="$WORK/xdg"
export KILN_BIN

# Every wait is bounded: each flow by FLOW_TIMEOUT inside run.sh, the whole script by timeout.
rc=0
timeout 600 env FLOW_TIMEOUT=180 bash "$FLOWS/run.sh" >"$WORK/flows.out" 2>"$WORK/flows.err" || rc=$?
[ "$rc" -eq 0 ] || fail "run.sh exited $rc
--- stdout:
$(cat "$WORK/flows.out")
--- stderr:
$(cat "$WORK/flows.err")"
out="$(cat "$WORK/flows.out")"
echo "$out"

json_field() { /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if isinstance(d, list): d = d[int(k)] if k.isdigit() and int(k) < len(d) else {}
    else: d = d.get(k, {}) if isinstance(d, dict) else {}
print(d if not isinstance(d, (dict, list)) else json.dumps(d, sort_keys=True))' "$1"; }
flow_line() { printf '%s\n' "$out" | grep "^flow $1 " || fail "no 'flow $1' line in: $out"; }
word_after() { printf '%s\n' "$2" | sed -n "s/.* $1 \\([^ ]*\\).*/\\1/p"; }

declare -A PIPE MODEL VERSION
for f in a b c; do
  line="$(flow_line "$f")"
  PIPE[$f]="$(word_after pipeline "$line")"
  MODEL[$f]="$(word_after model "$line")"
  VERSION[$f]="$(word_after version "$line")"
  [ -n "${PIPE[$f]}" ] && [ -n "${MODEL[$f]}" ] || fail "flow $f: cannot parse '$line'"
done

SERVING=us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest
SKLEARN=us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest
declare -A LABEL=([a]=package [b]=script [c]=container)
declare -A DISPLAY=([a]=sdk-package-pipeline [b]=sdk-script-pipeline [c]=sdk-container-pipeline)
declare -A MODEL_DISPLAY=([a]=iris-sdk-model [b]=iris-sdk-model [c]=iris-sdk-container-model)
declare -A TRAINED=([a]="max_iter=150, C=1.0" [b]="max_iter=300, C=0.5" [c]="max_iter=200, C=1.0")
declare -A JOB LOG

for f in a b c; do
  p="$(curl -sS -f "$ENDPOINT/v1/${PIPE[$f]}")" || fail "GET ${PIPE[$f]}"
  [ "$(printf '%s' "$p" | json_field state)" = PIPELINE_STATE_SUCCEEDED ] || fail "flow $f not SUCCEEDED: $p"
  [ "$(printf '%s' "$p" | json_field displayName)" = "${DISPLAY[$f]}" ] || fail "flow $f displayName: $p"
  [ "$(printf '%s' "$p" | json_field labels.flow)" = "${LABEL[$f]}" ] || fail "flow $f labels: $p"
  [ "$(printf '%s' "$p" | json_field modelToUpload.displayName)" = "${MODEL_DISPLAY[$f]}" ] \
    || fail "flow $f model_display_name: $p"
  [ "$(printf '%s' "$p" | json_field modelToUpload.containerSpec.imageUri)" = "$SERVING" ] \
    || fail "flow $f model_serving_container_image_uri: $p"
  [ "$(printf '%s' "$p" | json_field modelToUpload.name)" = "${MODEL[$f]}" ] || fail "flow $f model name: $p"
  pools="$(printf '%s' "$p" | json_field trainingTaskInputs.workerPoolSpecs)"
  [ "$(printf '%s' "$pools" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
    || fail "flow $f: replica_count=1 is one pool: $pools"
  [ "$(printf '%s' "$pools" | json_field 0.replicaCount)" = 1 ] || fail "flow $f replicaCount: $pools"
  [ "$(printf '%s' "$pools" | json_field 0.machineSpec.machineType)" = n1-standard-4 ] || fail "flow $f machine: $pools"
  JOB[$f]="$(printf '%s' "$p" | json_field trainingTaskMetadata.backingCustomJob)"
  JOB[$f]="${JOB[$f]##*/}"
  log="$("$KILN_BIN" custom-jobs logs "${JOB[$f]}" 2>&1)" || fail "flow $f: custom-jobs logs ${JOB[$f]}: $log"
  expect_contains "$log" "trained LogisticRegression(${TRAINED[$f]})" "flow $f: the args reached the trainer"
  m="$(curl -sS -f "$ENDPOINT/v1/${MODEL[$f]}@${VERSION[$f]}")" || fail "GET ${MODEL[$f]}@${VERSION[$f]}"
  [ "$(printf '%s' "$m" | json_field trainingPipeline)" = "${PIPE[$f]}" ] || fail "flow $f: version's trainingPipeline: $m"
  listing="$("$KILN_BIN" storage ls "$(printf '%s' "$m" | json_field artifactUri)" 2>&1)" || fail "flow $f: storage ls: $listing"
  expect_contains "$listing" "model.joblib" "flow $f: the model version's artifacts"
  LOG[$f]="$log"
done

# (a) the package flow's spec.
pools_a="$(curl -sS "$ENDPOINT/v1/${PIPE[a]}" | json_field trainingTaskInputs.workerPoolSpecs)"
[ "$(printf '%s' "$pools_a" | json_field 0.pythonPackageSpec.pythonModule)" = trainer.task ] || fail "(a) module: $pools_a"
[ "$(printf '%s' "$pools_a" | json_field 0.pythonPackageSpec.executorImageUri)" = "$SKLEARN" ] || fail "(a) executor: $pools_a"
expect_contains "$(printf '%s' "$pools_a" | json_field 0.pythonPackageSpec.packageUris)" \
  '"gs://kiln-demo/code/trainer-0.1.tar.gz"' "(a) python_package_gcs_uri"
[ "${VERSION[a]}" = 1 ] || fail "(a) makes a new model, version 1: got ${VERSION[a]}"

# (b) the script flow: packaged into the staging bucket, version 2 of (a)'s model.
pools_b="$(curl -sS "$ENDPOINT/v1/${PIPE[b]}" | json_field trainingTaskInputs.workerPoolSpecs)"
[ "$(printf '%s' "$pools_b" | json_field 0.pythonPackageSpec.pythonModule)" = aiplatform_custom_trainer_script.task ] \
  || fail "(b) runs the packaged script as the SDK does: $pools_b"
expect_contains "$(printf '%s' "$pools_b" | json_field 0.pythonPackageSpec.packageUris)" \
  "gs://kiln-demo/staging/" "(b) the script is staged in --staging-bucket"
[ "${MODEL[b]}" = "${MODEL[a]}" ] || fail "(b) should be a version of (a)'s model ${MODEL[a]}, got ${MODEL[b]}"
[ "${VERSION[b]}" = 2 ] || fail "(b) should be version 2, got ${VERSION[b]}"
versions="$("$KILN_BIN" models versions "${MODEL[a]##*/}" --format json 2>&1)" || fail "models versions: $versions"
[ "$(printf '%s' "$versions" | /usr/bin/python3 -c 'import json,sys
v = json.load(sys.stdin); v = v.get("models", v) if isinstance(v, dict) else v
print(" ".join(sorted(m["versionId"] for m in v)))')" = "1 2" ] || fail "two versions of ${MODEL[a]} expected: $versions"
expect_contains "$(curl -sS "$ENDPOINT/v1/${MODEL[a]}@1" | json_field versionAliases)" '"default"' \
  "version 1 keeps alias default"
table="$("$KILN_BIN" models versions "${MODEL[a]##*/}" 2>&1)" || fail "models versions (table): $table"
printf '%s\n' "$table"

# (c) the custom container flow: a new model; one T4 from the fake inventory.
[ "${MODEL[c]}" != "${MODEL[a]}" ] && [ "${VERSION[c]}" = 1 ] || fail "(c) makes a new model: ${MODEL[c]} v${VERSION[c]}"
pools_c="$(curl -sS "$ENDPOINT/v1/${PIPE[c]}" | json_field trainingTaskInputs.workerPoolSpecs)"
[ "$(printf '%s' "$pools_c" | json_field 0.containerSpec.imageUri)" = example.com/iris-trainer:latest ] || fail "(c) image: $pools_c"
[ "$(printf '%s' "$pools_c" | json_field 0.machineSpec.acceleratorType)" = NVIDIA_TESLA_T4 ] || fail "(c) accelerator_type: $pools_c"
[ "$(printf '%s' "$pools_c" | json_field 0.machineSpec.acceleratorCount)" = 1 ] || fail "(c) accelerator_count: $pools_c"
expect_contains "${LOG[c]}" "CUDA_VISIBLE_DEVICES=0" "(c) the replica got the T4 of the inventory"
echo "sdk flows e2e: ok ($((SECONDS - t0)) s)"
