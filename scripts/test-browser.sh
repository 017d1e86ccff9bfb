#!/usr/bin/env bash
# The crate's tests in headless Chromium: the core's unit tests (the same suite `cargo test` runs natively,
# now against the browser's URL parser and crypto) and tests/browser.rs (storage, history, fetch).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# A busy 2-core machine starts Chromium and compiles slowly; the defaults (5 s, 20 s) flake there.
export WASM_BINDGEN_TEST_DRIVER_TIMEOUT="${WASM_BINDGEN_TEST_DRIVER_TIMEOUT:-60}"
export WASM_BINDGEN_TEST_TIMEOUT="${WASM_BINDGEN_TEST_TIMEOUT:-120}"
# With the Node build's exports too (feature "backend"), so their browser-side serialisation is tested.
wasm-pack test --headless --chrome "$@" --features backend
