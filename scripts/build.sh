#!/usr/bin/env bash
# Sets up (idempotently) and builds kiln into build/. Used by run-main.sh and test.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/setup.sh"
# ccache keeps compiled objects outside the clone (~/.cache/ccache), so a fresh clone rebuilds
# only what changed; CCACHE_BASEDIR makes the cache hit across clones in different folders.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
cmake --build "$root/build" -j "$(nproc)"
