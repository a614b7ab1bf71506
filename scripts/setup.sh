#!/usr/bin/env bash
# Installs what building and testing Satstore needs on a fresh Debian machine
# that has only the Rust toolchain: libclang (RocksDB's bindings), the
# PostgreSQL server binaries (the tests start throwaway clusters), Debian's
# aws CLI and a Python virtualenv at .venv with the pinned S3 client libraries
# of tests/python (boto3, boto 2, pytest).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
# RocksDB's bindgen needs libclang.
if ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
  need+=(libclang-dev)
fi
# PostgreSQL server binaries for the end-to-end tests.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi

# The S3 gateway's smoke test drives Debian's aws CLI.
if ! dpkg-query -W -f='${Status}' awscli 2>/dev/null | grep -q "install ok installed"; then
  need+=(awscli)
fi
# The Python client tests run in a virtualenv; Debian's python3 needs
# python3-venv for that (another python3 on PATH may already have it).
python=python3
if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  python=/usr/bin/python3
  if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    need+=(python3-venv)
  fi
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Virtualenv for tests/python, rebuilt only when the pinned requirements change.
requirements=tests/python/requirements.txt
stamp=.venv/.requirements.sha256
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing $requirements into .venv" >&2
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
  echo "$want" >"$stamp"
fi
