#!/usr/bin/env bash
# The seed's three Python SDK flows as `kiln pipelines create` commands, against a running kiln:
#
#   bash examples/sdk_flows/run.sh config > /tmp/sdk-flows-config.yaml   # 1. kiln's config
#   kiln serve --config /tmp/sdk-flows-config.yaml &                      # 2. a kiln that has it
#   KILN_ENDPOINT=http://127.0.0.1:8080 [KILN_TOKEN=...] bash examples/sdk_flows/run.sh
#
# (a) CustomPythonPackageTrainingJob: examples/trainer as an sdist in gs://kiln-demo/code/;
# (b) CustomTrainingJob: examples/trainer/trainer/task.py as a script, a new version of (a)'s model;
# (c) CustomContainerTrainingJob: example.com/iris-trainer:latest (image map) on one NVIDIA_TESLA_T4
#     (fake inventory), which needs the config above.
# Each flow is followed to its end (--watch, at most FLOW_TIMEOUT seconds, default 300) and
# prints `flow X (...): pipeline P model M version V`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
kiln="${KILN_BIN:-$root/build/bin/kiln}"

if [ "${1:-}" = config ]; then
  echo "# Written by examples/sdk_flows/run.sh config from examples/sdk_flows/config.yaml"
  sed -e '/^#/d' -e "s|@TRAINER_DIR@|$root/examples/trainer|" -e "s|@ENTRY@|$here/container_entry.py|" \
    "$here/config.yaml"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [config]" >&2; exit 2; }
: "${KILN_ENDPOINT:?set KILN_ENDPOINT to a running kiln started with the config of run.sh config}"
export KILN_PROJECT="${KILN_PROJECT:-kiln-demo}" KILN_REGION="${KILN_REGION:-us-central1}"
flow_timeout="${FLOW_TIMEOUT:-300}"

SKLEARN_IMAGE=us-docker.pkg.dev/vertex-ai/training/sklearn-cpu.1-0:latest   # container_uri
SERVING_IMAGE=us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-0:latest # model_serving_container_image_uri

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# run_flow LETTER CLASS FLAGS...: one `kiln pipelines create ... --watch`; sets MODEL and VERSION.
run_flow() {
  local letter="$1" class="$2" out rc=0
  shift 2
  echo "== flow $letter: $class" >&2
  timeout "$flow_timeout" "$kiln" pipelines create "$@" --watch >"$work/$letter.out" 2>"$work/$letter.err" || rc=$?
  cat "$work/$letter.err" >&2
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && echo "flow $letter did not finish within $flow_timeout s" >&2
    echo "flow $letter ($class) FAILED (exit $rc): $(cat "$work/$letter.out")" >&2
    exit 1
  fi
  local pipeline model_line
  pipeline="$(grep -o 'projects/[^ ]*/trainingPipelines/[0-9]*' "$work/$letter.out" "$work/$letter.err" | head -n1 | cut -d: -f2)"
  model_line="$(grep '^Model: ' "$work/$letter.err" | tail -n1)"
  [ -n "$model_line" ] || { echo "flow $letter: no 'Model: NAME version V' line" >&2; exit 1; }
  MODEL="$(echo "$model_line" | cut -d' ' -f2)"
  VERSION="$(echo "$model_line" | cut -d' ' -f4)"
  echo "flow $letter ($class): pipeline $pipeline model $MODEL version $VERSION"
}

# (a) CustomPythonPackageTrainingJob(display_name, python_package_gcs_uri, python_module_name,
#     container_uri, model_serving_container_image_uri).run(model_display_name, args,
#     replica_count, machine_type)
cp -r "$root/examples/trainer" "$work/trainer"
(cd "$work/trainer" && /usr/bin/python3 setup.py -q sdist --dist-dir "$work/dist" >/dev/null 2>&1) \
  || { echo "building the trainer sdist failed (is python3-setuptools installed?)" >&2; exit 1; }
"$kiln" storage cp "$work/dist/trainer-0.1.tar.gz" gs://kiln-demo/code/trainer-0.1.tar.gz >&2
run_flow a CustomPythonPackageTrainingJob \
  --display-name=sdk-package-pipeline \
  --python-package-uris=gs://kiln-demo/code/trainer-0.1.tar.gz \
  --python-module=trainer.task \
  --container-uri="$SKLEARN_IMAGE" \
  --model-serving-container-image-uri="$SERVING_IMAGE" \
  --model-display-name=iris-sdk-model \
  --args=--max-iter=150 \
  --replica-count=1 \
  --machine-type=n1-standard-4 \
  --base-output-dir=gs://kiln-demo/sdk/package \
  --labels=flow=package
model_a="$MODEL"

# (b) CustomTrainingJob(display_name, script_path, container_uri,
#     model_serving_container_image_uri).run(..., parent_model=<(a)'s model>): version 2 of it.
#     The SDK packages the script and uploads it to staging_bucket; so does kiln.
run_flow b CustomTrainingJob \
  --display-name=sdk-script-pipeline \
  --script="$root/examples/trainer/trainer/task.py" \
  --container-uri="$SKLEARN_IMAGE" \
  --staging-bucket=gs://kiln-demo/staging \
  --model-serving-container-image-uri="$SERVING_IMAGE" \
  --model-display-name=iris-sdk-model \
  --parent-model="$model_a" \
  --args=--max-iter=300,--c=0.5 \
  --replica-count=1 \
  --machine-type=n1-standard-4 \
  --base-output-dir=gs://kiln-demo/sdk/script \
  --labels=flow=script

# (c) CustomContainerTrainingJob(display_name, container_uri,
#     model_serving_container_image_uri).run(..., accelerator_type="NVIDIA_TESLA_T4",
#     accelerator_count=1)
run_flow c CustomContainerTrainingJob \
  --display-name=sdk-container-pipeline \
  --container-image-uri=example.com/iris-trainer:latest \
  --model-serving-container-image-uri="$SERVING_IMAGE" \
  --model-display-name=iris-sdk-container-model \
  --args=--max-iter=200 \
  --replica-count=1 \
  --machine-type=n1-standard-4 \
  --accelerator-type=NVIDIA_TESLA_T4 \
  --accelerator-count=1 \
  --base-output-dir=gs://kiln-demo/sdk/container \
  --labels=flow=container
