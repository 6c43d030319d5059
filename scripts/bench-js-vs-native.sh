#!/usr/bin/env bash
# Issue 5's benchmark: the JS logging app's writes/s next to the native logging app's, on the
# same Cloister network and workload (POST /app/log/private {"id","msg"} by closed-loop clients).
# Runs the native app first, then deploys CCF's own JS logging sample (testdata/ccf-js-logging,
# unmodified) by a set_js_app proposal — its /log/private endpoints take over the path, as JS
# endpoints come before built-ins — and runs the same load again. Prints both and the ratio
# (CCF's paper: JS at 29 % of C++).
#
# Environment: SECONDS_PER_RUN (default 10), CLIENTS (default "1 16 64"), NODES (default 3),
# CLOISTER_PORT (default 8100), BUILD (0 to use target/release as it is), KEEP (1 keeps the
# temporary folder).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-"1 16 64"}
NODES=${NODES:-3}
CLOISTER_PORT=${CLOISTER_PORT:-8100}
BUILD=${BUILD:-1}
CLOISTER=target/release/cloister
BENCH=target/release/cloister-bench

log() { echo "== $*" >&2; }
if [[ $BUILD != 0 ]]; then
    cargo build --release -p cloister -p cloister-bench >&2
fi

WORK=$(mktemp -d)
SANDBOX_PID=""
cleanup() {
    if [[ -n $SANDBOX_PID ]]; then
        kill -TERM -- "-$SANDBOX_PID" 2>/dev/null || kill -TERM "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
    fi
    if [[ ${KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

workspace=$WORK/workspace
setsid "$CLOISTER" sandbox --workspace "$workspace" --port "$CLOISTER_PORT" --nodes "$NODES" \
    >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
C=$workspace/sandbox_common
for _ in $(seq 1200); do
    [[ -s $C/network.json ]] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { tail -n 20 "$WORK/sandbox.log" >&2; exit 1; }
    sleep 0.1
done
[[ -s $C/network.json ]] || { log "the sandbox did not open within 120s"; exit 1; }
url=https://127.0.0.1:$CLOISTER_PORT

run() { # run <clients>: the RESULT line of one run against the primary
    "$BENCH" cloister --url "$url" --ca "$C/service_cert.pem" --cert "$C/user0_cert.pem" \
        --key "$C/user0_privk.pem" --clients "$1" --seconds "$SECONDS_PER_RUN" 2>&1 | grep '^RESULT'
}
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

declare -A native js
for n in $CLIENTS; do
    log "native logging app, $n client(s)"
    native[$n]=$(run "$n")
done

# The JS sample as CCF's tools bundle it: app.json is the metadata, each file under src/ a module
# named by its path relative to src/.
python3 - "$WORK/proposal.json" <<'PY'
import json, sys
root = "testdata/ccf-js-logging"
metadata = json.load(open(f"{root}/app.json"))
module = open(f"{root}/src/logging.js").read()
bundle = {"metadata": metadata, "modules": [{"name": "logging.js", "module": module}]}
json.dump({"actions": [{"name": "set_js_app", "args": {"bundle": bundle}}]}, open(sys.argv[1], "w"))
PY
M=(--url "$url" --ca "$C/service_cert.pem" --member-cert "$C/member0_cert.pem"
    --member-key "$C/member0_privk.pem")
proposed=$("$CLOISTER" gov propose "${M[@]}" "$WORK/proposal.json")
id=$(grep -o '"proposalId": *"[0-9a-f]*"' <<<"$proposed" | sed 's/.*"\([0-9a-f]*\)"$/\1/')
[[ -n $id ]] || { log "no proposal id in: $proposed"; exit 1; }
"$CLOISTER" gov vote "${M[@]}" --proposal-id "$id" >"$WORK/vote.json"
grep -q '"Accepted"' "$WORK/vote.json" || { log "set_js_app not accepted: $(cat "$WORK/vote.json")"; exit 1; }
sleep 2 # the deployment commits
curl -sf --cacert "$C/service_cert.pem" "$url/gov/service/javascript-app?api-version=2024-07-01" |
    grep -q 'post_private' || { log "the JS app is not deployed"; exit 1; }

for n in $CLIENTS; do
    log "CCF's JS logging sample, $n client(s)"
    js[$n]=$(run "$n")
done

echo
echo "Native logging app vs CCF's JS logging sample on one $NODES-node Cloister network"
echo "${SECONDS_PER_RUN}s per run; $(nproc) cores shared by the nodes and the load generator"
printf '%7s | %16s %8s %8s | %16s %8s %8s | %6s\n' clients "native commit/s" p50_ms p99_ms \
    "JS commit/s" p50_ms p99_ms "JS %"
for n in $CLIENTS; do
    a=${native[$n]} b=${js[$n]}
    na=$(field "$a" committed_per_s) jb=$(field "$b" committed_per_s)
    pct=$(awk -v j="$jb" -v n="$na" 'BEGIN { if (n > 0) printf "%.0f", 100 * j / n; else print "-" }')
    printf '%7s | %16s %8s %8s | %16s %8s %8s | %6s\n' "$n" \
        "$(printf '%.0f' "$na")" "$(field "$a" p50_ms)" "$(field "$a" p99_ms)" \
        "$(printf '%.0f' "$jb")" "$(field "$b" p50_ms)" "$(field "$b" p99_ms)" "$pct"
done
