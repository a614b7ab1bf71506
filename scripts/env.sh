# Sourced by the scripts: shared build settings.
# Keep the cargo target dir outside the clone so every checkout (and CI run)
# reuses the one RocksDB build (~20 min of C++ on 2 cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/satstore-target}"
# Debian installs the PostgreSQL server binaries off PATH.
for d in /usr/lib/postgresql/*/bin; do
  if [ -d "$d" ] && ! command -v initdb >/dev/null 2>&1; then export PATH="$PATH:$d"; fi
done
