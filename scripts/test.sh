#!/usr/bin/env bash
# Runs every Cloister test. Needs nothing installed by hand: on first use it creates a Python
# virtualenv (.venv) with CCF's own tools (`ccf` 6.0.28 from PyPI), which the interop tests use to
# check what Cloister writes (read_ledger.py, ccf.receipt).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=".venv"
# cbor2 6.x decodes CBOR arrays as tuples, which pycose 1.1.0 (pulled in by ccf 6.0.28) does not
# accept: with it, read_ledger.py fails on every COSE-signed ledger, CCF's own included. cbor2 5.x
# is what those tools were written against.
ccf_requirements=("ccf==6.0.28" "cbor2>=5.6,<6")
if ! "$venv/bin/python" -c 'import ccf.ledger, ccf.receipt, cbor2; assert cbor2.__version__ < "6"' 2>/dev/null; then
    echo "scripts/test.sh: creating $venv with ${ccf_requirements[*]}"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "${ccf_requirements[@]}"
fi

export CLOISTER_CCF_VENV="$PWD/$venv"
# Interop tests skip (loudly) when the virtualenv is missing; here it is there, so they must run.
export CLOISTER_REQUIRE_INTEROP=1

scripts/build-ts-app.sh # the TypeScript sample crates/cli/tests/ts_app.rs deploys (npm ci + rollup)
cargo test --workspace --release "$@"

# The deterministic simulator's sweep: >= 500 seeds, 3 and 5 nodes, every fault class.
if [ "$#" -eq 0 ]; then
    scripts/sim-sweep.sh
fi
