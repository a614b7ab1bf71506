#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate and the end-to-end
# tests over real localnets (SQLite and a throwaway PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh

# The CLI tests drive the real binaries.
cargo build --workspace --bins
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
