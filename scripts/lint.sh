#!/usr/bin/env bash
# Formatting and lints, native and for wasm32; npm test runs this first, so an unformatted file or a
# clippy warning fails the build. `npm run format` and `cargo fmt` fix the formatting.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"

cargo fmt --check
cargo clippy --all-targets --all-features -- -D warnings
cargo clippy --all-targets --all-features --target wasm32-unknown-unknown -- -D warnings
prettier --check 'js/**/*.{js,mjs,ts}' 'www/**/*.{js,mjs}' 'scripts/**/*.{js,mjs}' 'tests/**/*.{js,mjs}' 'benches/**/*.{js,mjs}'
