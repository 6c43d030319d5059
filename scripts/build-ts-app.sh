#!/usr/bin/env bash
# Builds the TypeScript sample app (apps/ts-sample) into apps/ts-sample/dist/bundle.json, the
# set_js_app bundle that crates/cli/tests/ts_app.rs deploys: `npm ci` with the pinned
# package-lock.json, rollup (TypeScript -> ES modules under dist/src), then @microsoft/ccf-app's
# own ccf-build-bundle. Idempotent and quick when nothing changed: npm ci runs only when the
# lock file is newer than the last install, the build only when an input is newer than the bundle.
set -euo pipefail
cd "$(dirname "$0")/../apps/ts-sample"

if ! command -v npm >/dev/null 2>&1; then
    echo "scripts/build-ts-app.sh: needs Node.js (>= 18) and npm" >&2
    exit 1
fi

installed="node_modules/.package-lock.json" # npm writes it on every install
if [ ! -f "$installed" ] || [ package-lock.json -nt "$installed" ] || [ package.json -nt "$installed" ]; then
    npm ci --no-audit --no-fund
fi

bundle="dist/bundle.json"
if [ -f "$bundle" ] && [ -z "$(find app.json package.json package-lock.json tsconfig.json \
    rollup.config.js src "$installed" -newer "$bundle" -print -quit)" ]; then
    echo "scripts/build-ts-app.sh: $PWD/$bundle is up to date"
    exit 0
fi
npm run --silent build
echo "scripts/build-ts-app.sh: wrote $PWD/$bundle ($(wc -c <"$bundle") bytes)"
