#!/usr/bin/env bash
# Runs the whole test suite: unit tests of every crate, the end-to-end
# tests over real localnets (SQLite and a throwaway PostgreSQL), then the
# Python S3 client tests (boto3, boto 2, aws CLI) against a localnet's gateway.
# Arguments go to cargo test / nextest. Fails when either part fails; both
# parts always run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh

# The CLI tests drive the real binaries.
cargo build --workspace --bins
cargo_status=0
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@" || cargo_status=$?
else
  cargo test --workspace --no-fail-fast "$@" || cargo_status=$?
fi

python_status=0
.venv/bin/python -m pytest tests/python -q || python_status=$?

if [ "$cargo_status" -ne 0 ]; then
  echo "test: cargo tests failed (exit $cargo_status)" >&2
  exit "$cargo_status"
fi
if [ "$python_status" -ne 0 ]; then
  echo "test: Python S3 tests failed (exit $python_status)" >&2
  exit "$python_status"
fi
