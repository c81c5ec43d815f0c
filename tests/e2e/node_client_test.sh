#!/usr/bin/env bash
# The Node client @google-cloud/aiplatform (REST/fallback mode, pinned in tests/node/package-lock.json)
# against a real `kiln serve`: CustomJob create/get, TrainingPipeline create/get/poll, Model get.
# Manual run: KILN_BIN=build/bin/kiln bash tests/e2e/node_client_test.sh
source "$(dirname "$0")/lib.sh"
NODE_DIR="$(cd "$(dirname "$0")/../node" && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: node and/or npm are not installed; the Node client (@google-cloud/aiplatform) test did not run" >&2
  exit 77
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "SKIPPED: node $(node --version) is older than 18, which google-gax 5 needs; the Node client test did not run" >&2
  exit 77
fi

# Install exactly what the lock file says (quiet; the log is shown only on failure).
start=$(date +%s)
if ! (cd "$NODE_DIR" && timeout 240 npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm.log" 2>&1; then
  cat "$WORK/npm.log" >&2
  fail "npm ci in tests/node failed"
fi
echo "npm ci: $(( $(date +%s) - start )) s"

TOKEN="node-client-token-$(date +%s%N)"
cat >"$WORK/tokens.yaml" <<YAML
tokens:
  - token: "$TOKEN"
    projects: ["node-proj"]
YAML
start_kiln --tokens-file "$WORK/tokens.yaml"

# The files are named explicitly: node 21+ reads --test arguments as globs, not directories.
set +e
KILN_ENDPOINT_PORT="$PORT" KILN_TOKEN="$TOKEN" timeout 300 node --test "$NODE_DIR"/*.test.mjs
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "--- kiln serve stderr (last 40 lines) ---" >&2
  tail -n 40 "$WORK/serve.err" >&2 || true
  [ "$rc" -eq 124 ] && fail "node --test timed out after 300 s"
  fail "node --test exited $rc"
fi
echo "node client e2e: ok"
