# Shared helpers for the end-to-end tests. Source it; it sets KILN_BIN and a work dir.
set -euo pipefail
: "${KILN_BIN:?KILN_BIN must point at the kiln binary}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kiln-e2e.XXXXXX")"
KILN_PID=""

cleanup() {
  if [ -n "$KILN_PID" ] && kill -0 "$KILN_PID" 2>/dev/null; then
    kill -TERM "$KILN_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$KILN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KILN_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_kiln [extra serve flags...]: starts `kiln serve --port 0` and sets PORT and ENDPOINT.
start_kiln() {
  "$KILN_BIN" serve --port 0 --home "$WORK/home" "$@" >"$WORK/serve.out" 2>"$WORK/serve.err" &
  KILN_PID=$!
  for _ in $(seq 100); do
    if grep -q "kiln listening on" "$WORK/serve.out" 2>/dev/null; then break; fi
    kill -0 "$KILN_PID" 2>/dev/null || { cat "$WORK/serve.err" >&2; fail "kiln serve exited"; }
    sleep 0.1
  done
  PORT="$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/serve.out" | head -n1 | sed 's/.*://')"
  [ -n "$PORT" ] || fail "kiln did not print its address"
  ENDPOINT="http://127.0.0.1:$PORT"
}

# expect_contains HAYSTACK NEEDLE WHAT
expect_contains() {
  case "$1" in *"$2"*) ;; *) fail "$3: expected to find [$2] in: $1" ;; esac
}

# replica_group FILE: the process group id in a replica.pid, waiting (≤ 5 s) while the shim
# has not written it yet (the file exists empty until the replica is forked).
replica_group() {
  local pgid=""
  for _ in $(seq 100); do
    pgid="$(cat "$1" 2>/dev/null || true)"
    [ -n "$pgid" ] && break
    sleep 0.05
  done
  [ -n "$pgid" ] || fail "no process group recorded in $1"
  echo "$pgid"
}
