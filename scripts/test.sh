#!/usr/bin/env bash
# Everything `npm test` runs, in order of speed: lint, native, browser, the built package, end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

echo "== lint: cargo fmt, clippy (native and wasm32), prettier"
bash scripts/lint.sh
echo "== native: cargo test"
cargo test
echo "== browser: wasm-pack test --headless --chrome"
bash scripts/test-browser.sh
echo "== package: release build"
node scripts/build.mjs
echo "== package, types (tsc) and end-to-end in Chromium, WebKit and Firefox: node --test"
node --test --test-concurrency=1 tests/package.test.mjs tests/readme.test.mjs tests/exports.test.mjs tests/types.test.mjs tests/quickstart.test.mjs tests/recipes.test.mjs tests/hash-routers.test.mjs tests/unavailable.test.mjs tests/frameworks.test.mjs tests/server/ tests/e2e/
