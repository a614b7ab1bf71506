#!/usr/bin/env bash
# Builds and runs a local network: a satellite and 10 storage nodes on
# 127.0.0.1, data under ./.localnet (pass --dir, --nodes, --database URL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
cargo build --workspace --bins
exec "$CARGO_TARGET_DIR/debug/localnet" run "$@"
