#!/bin/sh
# Trains the four starter models one after the other (sequential: the machine has 2 cores) and
# logs each to /tmp/lesion-lab-starters/<task>.log. Minutes per task as arguments, e.g.
#   nohup nice -n 5 sh scripts/train-starters.sh 16 16 14 16 > /tmp/lesion-lab-starters.log 2>&1 &
set -u
cd "$(dirname "$0")/.."
mkdir -p /tmp/lesion-lab-starters
run() {
  echo "$(date -u +%H:%M:%S) start $1 ($2 min)"
  node --import tsx scripts/train-starter.ts --task "$1" --minutes "$2" --backend wasm > "/tmp/lesion-lab-starters/$1.log" 2>&1
  echo "$(date -u +%H:%M:%S) done $1 (exit $?): $(grep 'held-out mean' "/tmp/lesion-lab-starters/$1.log")"
}
run sarcoma-ct "${1:-15}"
run sarcoma-mr-t1 "${2:-15}"
run sarcoma-pet "${3:-15}"
run ms-flair "${4:-15}"
echo "$(date -u +%H:%M:%S) all done"
