#!/usr/bin/env bash
# The README's test command: set up, build, run every test (unit, golden, end-to-end).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/build.sh"
cd "$root/build"
# Two jobs on two cores; every test has its own time limit (CTest TIMEOUT), e2e tests skip
# with exit 77 when their external tool is missing and say so.
ctest -j 2 --output-on-failure --timeout 600
