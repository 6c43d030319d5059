#!/usr/bin/env bash
# Cloister vs etcd on this machine, same workload: closed-loop clients (one keep-alive
# connection each, one small write in flight) for 1/16/64/256 clients. Prints committed
# writes/s and p50/p99 latency of both, and their ratio. See docs/benchmarks.md.
#
# Durability: both sync to disk. etcd keeps fsync on (no --unsafe-no-fsync): it answers a put
# once a quorum has fsynced it. Cloister syncs each batch of ledger entries before a node counts
# or acknowledges them (stricter than CCF 6, which only flushes), so a commit means a quorum has
# the entry on disk; it answers the client before commit, as CCF does. BENCH_ETCD_NO_FSYNC=1
# runs etcd without fsync. Both data directories live in one temporary folder (one file system).
#
# Environment:
#   SECONDS_PER_RUN  seconds of writes per run (default 10)
#   CLIENTS          client counts (default "1 16 64 256")
#   NODES            Cloister nodes (default 3; 1 if this sandbox cannot run more)
#   CLOISTER_PORT    first Cloister RPC port (default 8000)
#   BENCH_ETCD_PORT  first etcd port (default 23790; member i uses +2i client, +2i+1 peer)
#   BUILD            0 to skip `cargo build --release` and use the binaries in target/release
#   KEEP             1 to keep the temporary folder (logs, ledgers, etcd data) for a look
#   BENCH_ETCD_NO_FSYNC 1 to run etcd with --unsafe-no-fsync
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
CLIENTS=${CLIENTS:-"1 16 64 256"}
NODES=${NODES:-3}
CLOISTER_PORT=${CLOISTER_PORT:-8000}
BENCH_ETCD_PORT=${BENCH_ETCD_PORT:-23790}
BUILD=${BUILD:-1}
KEEP=${KEEP:-0}
BENCH_ETCD_NO_FSYNC=${BENCH_ETCD_NO_FSYNC:-0}
ETCD_MEMBERS=3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-vs-etcd.XXXXXX")
GROUPS_STARTED=()

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # Every service was started with setsid: its pid is its process group (the Cloister
    # sandbox and the nodes it starts share one).
    for group in "${GROUPS_STARTED[@]}"; do
        kill -TERM -- "-$group" 2>/dev/null || true
    done
    for group in "${GROUPS_STARTED[@]}"; do
        for _ in $(seq 50); do
            kill -0 -- "-$group" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$group" 2>/dev/null || true
    done
    if [[ $KEEP == 1 ]]; then
        log "kept $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts "$@" in its own session (so its whole process group can be stopped), output to $LOG.
start_group() {
    setsid "$@" >"$LOG" 2>&1 </dev/null &
    GROUPS_STARTED+=("$!")
    # Out of the job table: no "Killed" notices when cleanup stops it.
    disown "$!"
}

wait_until() { # wait_until <seconds> <what> <command...>
    local limit=$1 what=$2
    shift 2
    for _ in $(seq $((limit * 10))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    log "$what not ready within ${limit}s"
    return 1
}

# --- tools -----------------------------------------------------------------------------------
if ! command -v etcd >/dev/null; then
    log "etcd is missing: installing Debian's etcd-server"
    SUDO=""
    [[ $(id -u) == 0 ]] || SUDO=sudo
    $SUDO apt-get install -y etcd-server >&2 || {
        $SUDO apt-get update >&2
        $SUDO apt-get install -y etcd-server >&2
    }
fi
if [[ $BUILD != 0 ]]; then
    log "building release binaries"
    (cd "$ROOT" && cargo build --release -p cloister -p cloister-bench >&2)
fi
CLOISTER=$ROOT/target/release/cloister
BENCH=$ROOT/target/release/cloister-bench
for bin in "$CLOISTER" "$BENCH"; do
    [[ -x $bin ]] || { log "missing $bin"; exit 1; }
done

# --- etcd: three members on loopback ---------------------------------------------------------
cluster=""
endpoints=""
for i in $(seq 0 $((ETCD_MEMBERS - 1))); do
    cluster+="${cluster:+,}e$i=http://127.0.0.1:$((BENCH_ETCD_PORT + 2 * i + 1))"
    endpoints+="${endpoints:+,}http://127.0.0.1:$((BENCH_ETCD_PORT + 2 * i))"
done
etcd_flags=()
etcd_fsync="fsync on"
if [[ $BENCH_ETCD_NO_FSYNC == 1 ]]; then
    etcd_flags+=(--unsafe-no-fsync)
    etcd_fsync="--unsafe-no-fsync"
fi
for i in $(seq 0 $((ETCD_MEMBERS - 1))); do
    client=http://127.0.0.1:$((BENCH_ETCD_PORT + 2 * i))
    peer=http://127.0.0.1:$((BENCH_ETCD_PORT + 2 * i + 1))
    LOG=$WORK/etcd$i.log start_group etcd --name "e$i" --data-dir "$WORK/etcd$i" \
        --listen-client-urls "$client" --advertise-client-urls "$client" \
        --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
        --initial-cluster "$cluster" --initial-cluster-state new \
        --initial-cluster-token cloister-bench "${etcd_flags[@]}"
done
etcd_ready() {
    local url
    for url in ${endpoints//,/ }; do
        curl -sf "$url/health" | grep -q '"health":"true"' || return 1
    done
}
wait_until 60 "etcd" etcd_ready || { tail -n 20 "$WORK"/etcd*.log >&2; exit 1; }
log "etcd $(etcd --version | head -n 1 | awk '{print $3}'): $ETCD_MEMBERS members ($etcd_fsync), $endpoints"

# --- Cloister sandbox ------------------------------------------------------------------------
start_sandbox() { # start_sandbox <nodes or empty>
    local workspace=$WORK/cloister$1
    local args=(sandbox --workspace "$workspace" --port "$CLOISTER_PORT")
    [[ -n $1 ]] && args+=(--nodes "$1")
    LOG=$WORK/sandbox$1.log start_group "$CLOISTER" "${args[@]}"
    SANDBOX_GROUP=${GROUPS_STARTED[-1]}
    COMMON=$workspace/sandbox_common
    # The sandbox writes network.json once the service is open and user0 exists.
    for _ in $(seq 1200); do
        [[ -s $COMMON/network.json ]] && return 0
        kill -0 "$SANDBOX_GROUP" 2>/dev/null || return 1
        sleep 0.1
    done
    log "the Cloister sandbox did not open within 120s"
    return 1
}
nodes_note=""
sandbox_help=$("$CLOISTER" sandbox --help)
if grep -q -- '--nodes' <<<"$sandbox_help"; then
    if ! start_sandbox "$NODES"; then
        if [[ $NODES == 1 ]]; then tail -n 20 "$WORK/sandbox$NODES.log" >&2; exit 1; fi
        reason=$(grep -m1 -i 'error\|nodes' "$WORK/sandbox$NODES.log" || true)
        nodes_note="NOTE: 'cloister sandbox --nodes $NODES' refused ($reason); Cloister runs 1 node"
        log "$nodes_note"
        start_sandbox 1 || { tail -n 20 "$WORK/sandbox1.log" >&2; exit 1; }
    fi
else
    nodes_note="NOTE: this cloister sandbox has no --nodes flag; Cloister runs 1 node"
    log "$nodes_note"
    start_sandbox "" || { tail -n 20 "$WORK/sandbox.log" >&2; exit 1; }
fi
cloister_nodes=$(grep -o '"rpc_address"' "$COMMON/network.json" | wc -l)
# Writes go to the first node (the primary of a fresh network).
cloister_url=https://$(grep -o '"rpc_address": *"[^"]*"' "$COMMON/network.json" | head -n 1 |
    sed 's/.*"\([^"]*\)"$/\1/')
log "Cloister: $cloister_nodes node(s), writes to $cloister_url"

# --- runs ------------------------------------------------------------------------------------
field() { # field <RESULT line> <key>
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}
run_bench() { # run_bench <name> <clients> <cloister-bench args...>; prints the RESULT line
    local name=$1 clients=$2 out
    shift 2
    out=$("$BENCH" "$@" --clients "$clients" --seconds "$SECONDS_PER_RUN" 2>&1) || {
        log "$name with $clients clients failed: $out"
        echo "RESULT system=$name clients=$clients committed_per_s=0 p50_ms=nan p99_ms=nan errors=failed"
        return 0
    }
    sed 's/^/   /' <<<"$out" | grep -v '^   RESULT' >&2
    grep '^RESULT' <<<"$out"
}

rows=()
for n in $CLIENTS; do
    log "$n client(s), ${SECONDS_PER_RUN}s each"
    c=$(run_bench cloister "$n" cloister --url "$cloister_url" --ca "$COMMON/service_cert.pem" \
        --cert "$COMMON/user0_cert.pem" --key "$COMMON/user0_privk.pem")
    e=$(run_bench etcd "$n" etcd --endpoints "$endpoints")
    rows+=("$n|$c|$e")
done

# --- table -----------------------------------------------------------------------------------
echo
echo "Cloister ($cloister_nodes node(s), ledger synced before commit) vs etcd ($ETCD_MEMBERS members, $etcd_fsync)"
echo "${SECONDS_PER_RUN}s per run; $(nproc) cores shared by the servers and the load generator"
[[ -n $nodes_note ]] && echo "$nodes_note"
printf '%7s | %23s %8s %8s | %23s %8s %8s | %6s\n' clients "cloister committed/s" "p50 ms" "p99 ms" \
    "etcd committed/s" "p50 ms" "p99 ms" ratio
for row in "${rows[@]}"; do
    IFS='|' read -r n c e <<<"$row"
    cc=$(field "$c" committed_per_s)
    ec=$(field "$e" committed_per_s)
    ratio=$(awk -v a="$cc" -v b="$ec" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    printf '%7s | %23s %8s %8s | %23s %8s %8s | %6s\n' "$n" \
        "$cc" "$(field "$c" p50_ms)" "$(field "$c" p99_ms)" \
        "$ec" "$(field "$e" p50_ms)" "$(field "$e" p99_ms)" "$ratio"
done
echo "ratio = Cloister committed/s / etcd committed/s. Cloister acked/s and errors are in the log above."
