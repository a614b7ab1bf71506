#!/usr/bin/env bash
# Installs what building and testing Satstore needs on a fresh Debian machine
# that has only the Rust toolchain: libclang (RocksDB's bindings), a C++
# compiler (RocksDB), the PostgreSQL server binaries (the tests start
# throwaway clusters), Debian's aws CLI, and a Python virtualenv at .venv
# with the pinned S3 client libraries of tests/python (boto3, boto 2, pytest).
#
# Every Debian package is decided by its package state (dpkg-query), never by
# looking for files: an image can ship a file that matches a glob without the
# package a build needs (libclang-cpp.so is not libclang.so).
#
#   scripts/setup.sh           install what is missing (safe to run repeatedly)
#   scripts/setup.sh --check   install nothing; exit 1 with one line naming the
#                              first missing package
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian packages the build and the tests need, with what each is for.
packages=(
  libclang-dev   # bindgen in librocksdb-sys
  g++            # RocksDB's C++
  postgresql     # initdb / pg_ctl / postgres for the PostgreSQL tests
  awscli         # the S3 gateway's aws CLI smoke test
  python3-venv   # the virtualenv of tests/python (Debian's python3)
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ "${1:-}" = "--check" ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: missing Debian package ${missing[0]} (run scripts/setup.sh)" >&2
    exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    echo "setup: missing the Python virtualenv .venv (run scripts/setup.sh)" >&2
    exit 1
  fi
  exit 0
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Virtualenv for tests/python on Debian's python3 (the one python3-venv
# serves), rebuilt only when the pinned requirements or the interpreter change.
python=/usr/bin/python3
requirements=tests/python/requirements.txt
stamp=.venv/.requirements.sha256
want="$(sha256sum "$requirements" | cut -d' ' -f1) $("$python" --version 2>&1)"
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing $requirements into .venv" >&2
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi
