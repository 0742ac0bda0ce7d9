#!/bin/sh
# Instructions per request of one workload through authgate's ASGI app (inprocess.py), counted by valgrind's
# callgrind only while the measured requests run: a figure that the machine's load does not move.
# Usage: bench/benchlib/callgrind.sh W2 [REQUESTS] [inprocess.py options]   (PYTHONPATH picks the tree to measure)
# Two figures: every thread, and the main thread alone (with --inline, the requests' whole work): the background
# threads (the revocation sync every 500 ms, ...) add instructions by the wall time, which the machine's load does move.
set -eu
workload=$1; requests=${2:-100}; [ $# -ge 2 ] && shift 2 || shift 1
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../.venv/bin/python}
signal=$(mktemp -u /tmp/authgate-callgrind-XXXXXX)
out=$signal.out
valgrind --tool=callgrind --instr-atstart=no --separate-threads=yes --callgrind-out-file="$out" \
    "$python" "$here/inprocess.py" "$workload" --requests "$requests" --warmup 50 --concurrency 1 --inline \
    --signal "$signal" "$@" >"$signal.log" 2>&1 &
pid=$!
while [ ! -e "$signal" ]; do kill -0 $pid 2>/dev/null || { cat "$signal.log"; exit 1; }; sleep 0.2; done
callgrind_control -i on $pid >/dev/null
rm "$signal"
while [ ! -e "$signal.done" ]; do sleep 0.2; done
callgrind_control -i off $pid >/dev/null
rm "$signal.done"
wait $pid
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); n = $1 + 0} END {print n + 0}'; }
instructions=0
for file in "$out"-*; do instructions=$((instructions + $(total "$file"))); done
main=$(total "$out-01")
grep "^W" "$signal.log" || true
echo "$workload: $((instructions / requests)) instructions per request (callgrind, $requests requests)"
echo "$workload: $((main / requests)) instructions per request on the main thread"
[ -n "${KEEP:-}" ] && echo "kept $out-*" || rm -f "$out" "$out"-*
rm -f "$signal.log"
