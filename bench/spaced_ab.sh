#!/bin/bash
# Runs two builds of job_latency_bench alternately, PAUSE seconds apart, RUNS times each:
#   bench/spaced_ab.sh OLD_BENCH NEW_BENCH [RUNS=3] [PAUSE=90]
# The pause keeps each run clear of the previous one's deletions: on ext4 without a journal,
# inode allocation skips (by scanning) inodes deleted in the last 60 s (bench/README.md).
set -euo pipefail
old="$1" new="$2" runs="${3:-3}" pause="${4:-90}"
sleep "$pause"
for i in $(seq "$runs"); do
  for which in old new; do
    bench="$old"; [ "$which" = new ] && bench="$new"
    echo "== $which, run $i, $(date +%T), load $(cut -d' ' -f1 /proc/loadavg)"
    "$bench" 100 200 2>&1 | tail -4
    sleep "$pause"
  done
done
