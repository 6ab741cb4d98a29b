#!/usr/bin/env bash
# Builds (does not run) the fuzz targets in fuzz/ with cargo fuzz, so that CI notices when
# a target stops compiling. Installs cargo-fuzz first if it is missing (about 3.5 minutes on
# a 2-core machine). cargo fuzz passes nightly flags (-Zsanitizer); on the stable toolchain
# RUSTC_BOOTSTRAP=1 allows them. See docs/fuzzing.md for running the fuzzers.
#
# Usage: .ci/fuzz-build.sh [--no-sanitizer]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "cargo-fuzz not found: installing it (cargo install --locked cargo-fuzz)" >&2
    started=$(date +%s)
    cargo install --locked cargo-fuzz
    echo "installed cargo-fuzz in $(( $(date +%s) - started )) s" >&2
fi

sanitizer=()
if [ "${1:-}" = "--no-sanitizer" ]; then
    sanitizer=(--sanitizer none)
fi

export RUSTC_BOOTSTRAP=1
started=$(date +%s)
# One build for all targets; the shared target directory is honoured if set.
cargo fuzz build "${sanitizer[@]}" --fuzz-dir fuzz
echo "built the fuzz targets in $(( $(date +%s) - started )) s:" >&2
cargo fuzz list --fuzz-dir fuzz >&2
