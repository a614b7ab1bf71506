#!/usr/bin/env bash
# Installs what building and testing Satstore needs on a fresh Debian machine
# that has only the Rust toolchain: libclang (RocksDB's bindings) and the
# PostgreSQL server binaries (the tests start throwaway clusters).
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

need=()
# RocksDB's bindgen needs libclang.
if ! ls /usr/lib/llvm-*/lib/libclang*.so* >/dev/null 2>&1 && ! ls /usr/lib/x86_64-linux-gnu/libclang*.so* >/dev/null 2>&1; then
  need+=(libclang-dev)
fi
# PostgreSQL server binaries for the end-to-end tests.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need+=(postgresql)
fi

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
fi
