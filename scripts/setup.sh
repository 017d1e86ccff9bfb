#!/usr/bin/env bash
# Installs what building and testing need, on a fresh machine, and does nothing when it is all there.
# Every step uses a registry (crates.io, npm, Debian), never a release-page download: see README "Toolchain".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-pack compares wasm-bindgen-cli with the wasm-bindgen crate in Cargo.lock and downloads on a
# mismatch (which fails offline), so install exactly the version Cargo.toml pins.
want=$(sed -n 's/^wasm-bindgen = .*"=\([0-9.]*\)".*/\1/p' Cargo.toml)
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  say "installing wasm-bindgen-cli $want (a few minutes, once)"
  # Not --locked: its lockfile names a webpki-roots version the registry does not serve.
  cargo install wasm-bindgen-cli --version "$want"
fi
if ! command -v wasm-pack >/dev/null; then
  say "installing wasm-pack (a few minutes, once; the npm package of that name downloads a binary and fails offline)"
  cargo install wasm-pack --version 0.15.1
fi

# The three engines WeChat pages run in (tests/e2e/engines.test.mjs), from Debian: npm installers that download
# browsers fail offline. Chromium (Android's XWeb is a Chromium fork) and its driver; WebKitGTK's WebDriver and
# MiniBrowser (iOS WeChat is WebKit) with Xvfb, since MiniBrowser needs a display; Firefox ESR.
missing=()
for need in chromium:/usr/bin/chromium chromium-driver:/usr/bin/chromedriver firefox-esr:/usr/bin/firefox-esr \
  webkit2gtk-driver:/usr/bin/WebKitWebDriver xvfb:/usr/bin/Xvfb; do
  [ -x "${need#*:}" ] || missing+=("${need%%:*}")
done
# PostgreSQL for the server tests (tests/server/postgres.mjs starts a throwaway cluster with Debian's binaries).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian's ${missing[*]}"
  sudo_=""
  [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm writes node_modules/.package-lock.json on install: older than the lock means the lock moved on.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies (browser drivers, binaryen, bundlers, typescript, prettier)"
  npm ci --no-audit --no-fund
fi
