#!/usr/bin/env bash
# The whole SBML Test Suite (semantic cases) through `ligand simulate`, when the
# shared reference data is beside the repository; fails if fewer cases pass than
# .ci/sbml-suite-threshold.txt requires. Without ../shared/data it says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."

suite=../shared/data/sbml-test-suite
if [ ! -d "$suite/semantic" ]; then
    echo "sbml-suite: $suite not present; skipped"
    exit 0
fi
min_all=$(awk '$1 == "all" {print $2}' .ci/sbml-suite-threshold.txt)
min_core=$(awk '$1 == "core" {print $2}' .ci/sbml-suite-threshold.txt)

cargo build -p ligand-cli --locked
./target/debug/ligand conformance sbml "$suite" \
    --min-pass "$min_all" --min-core-pass "$min_core" \
    --report target/sbml-suite-report.csv
