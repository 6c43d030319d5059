#!/usr/bin/env bash
# The simulator sweep CI runs after the test suite (TESTING.md: time-boxed, >= 500 seeds, 3 and 5
# nodes, every fault class): seeds with 3 nodes and with 5 nodes, one process each (one per
# core). Fails if any seed fails or if, within the time box, fewer than MIN_SEEDS seeds ran.
# A failing seed prints the command that replays it.
#
# Environment: SEEDS_3 (default 500), SEEDS_5 (default 250), TIME_BOX_SECS (default 600 each),
# MIN_SEEDS (default 500).
set -euo pipefail
cd "$(dirname "$0")/.."

seeds_3=${SEEDS_3:-500}
seeds_5=${SEEDS_5:-250}
time_box=${TIME_BOX_SECS:-600}
min_seeds=${MIN_SEEDS:-500}
sim=target/release/cloister-sim
[ -x "$sim" ] || cargo build --release -p cloister-sim

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
"$sim" --seeds "0..$seeds_3" --nodes 3 --time-box-secs "$time_box" --quiet >"$logs/3" 2>&1 &
three=$!
"$sim" --seeds "1000000..$((1000000 + seeds_5))" --nodes 5 --time-box-secs "$time_box" --quiet >"$logs/5" 2>&1 &
five=$!
status=0
wait "$three" || status=1
wait "$five" || status=1
cat "$logs/3" "$logs/5"
passed=0
for count in $(grep -h '^summary:' "$logs/3" "$logs/5" | sed -E 's/.* ([0-9]+) passed.*/\1/'); do
    passed=$((passed + count))
done
echo "sim-sweep: $passed seeds passed (3 and 5 nodes)"
if [ "$status" -ne 0 ]; then
    echo "sim-sweep: a seed failed (its replay command is printed above)" >&2
    exit 1
fi
if [ "$passed" -lt "$min_seeds" ]; then
    echo "sim-sweep: only $passed seeds ran within the time box (need $min_seeds)" >&2
    exit 1
fi
