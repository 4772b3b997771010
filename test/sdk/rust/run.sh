#!/usr/bin/env bash
# Runs the Rust SDK driver (contract: test/sdk/README.md). Builds it with the SDK pinned in
# Cargo.toml / Cargo.lock; build output outside the repo (the crates stay in ~/.cargo), cargo's
# output on stderr so stdout carries only the driver's JSON lines.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export CARGO_TARGET_DIR="${NOBUS_SDK_CACHE:-$HOME/.cache/nobus}/target-sdk-rust"
cargo build --release --locked --quiet --manifest-path "$here/Cargo.toml" 1>&2
exec "$CARGO_TARGET_DIR/release/nobus-sdk-rust-driver"
