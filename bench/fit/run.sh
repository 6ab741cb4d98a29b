#!/usr/bin/env bash
# The 4PL fitting benchmark: ligand's fit_curve against scipy.optimize.curve_fit (analytic Jacobian,
# the strongest Python peer) on the same 10,000 synthetic curves, in the same run.
#
#   bench/fit/run.sh            (run from anywhere; REPEATS=5 by default)
#
# Data: /work/shared/bench/data/dr4pl_n10000.csv.gz (curve_id, conc in M, response; 30 points per curve), the
# generating parameters (dr4pl_n10000_truth.csv.gz) and scipy's per-curve optima (dr4pl_n10000_scipy_fits.csv.gz).
#
# ligand: crates/fit/examples/bench_4pl.rs fits every curve through `fit_curve` (catalogue `4pl`: self-starter,
# Levenberg-Marquardt at the default tolerance 1e-10, standard errors, Wald intervals, EC50, R², AICc, runs and
# replicates tests) on ONE thread, timing the fitting loop only in process CPU time (median of REPEATS passes).
# scipy: bench_fit_python.py --tool scipy_jac (its fitting loop only, process CPU time, median of 3 passes).
# Then the whole command line: `ligand fit dr4pl_n10000.csv.gz --format csv` (release build, every core), timed
# with /usr/bin/time: reading and parsing the gzip file, all fits, writing the CSV.
#
# Environment: SHARED (default /work/shared/bench), PEERS_PYTHON (a Python with numpy, scipy and pandas: default
# $SHARED/.venv-peers/bin/python, else /tmp/peers/bin/python; see $SHARED/README.md), REPEATS.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED=${SHARED:-/work/shared/bench}
REPEATS=${REPEATS:-5}
if [[ -z "${PEERS_PYTHON:-}" ]]; then
  for p in "$SHARED/.venv-peers/bin/python" "$ROOT/.venv-peers/bin/python" /tmp/peers/bin/python; do
    if [[ -x "$p" ]]; then PEERS_PYTHON=$p; break; fi
  done
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$ROOT" && cargo build --release -q -p ligand-fit --example bench_4pl && cargo build --release -q -p ligand-cli)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

REPEATS=$REPEATS "$ROOT/target/release/examples/bench_4pl" "$SHARED/data" > "$WORK/ligand.json"
echo "ligand fit_curve: $(cat "$WORK/ligand.json")"

if [[ -n "${PEERS_PYTHON:-}" ]]; then
  "$PEERS_PYTHON" "$SHARED/bench_fit_python.py" --tool scipy_jac --repeats 3 > "$WORK/scipy.json"
  echo "scipy_jac:        $(cat "$WORK/scipy.json")"
  python3 - "$WORK/ligand.json" "$WORK/scipy.json" <<'EOF'
import json, sys
lig = json.load(open(sys.argv[1]))
sci = json.load(open(sys.argv[2]))
ratio = lig["fits_per_cpu_s"] / sci["fits_per_s_cpu"]
print(f"fits per CPU-second: ligand {lig['fits_per_cpu_s']:.0f}, scipy {sci['fits_per_s_cpu']:.0f}, "
      f"ratio {ratio:.1f} (target 50)")
# scipy's accuracy from its per-curve optima file (bench_fit_python.py rounds to 4 decimals).
print(f"|logEC50 error| vs truth, median / mean: ligand {lig['logec50_median_abs_err']:.7f} / "
      f"{lig['logec50_mean_abs_err']:.7f}, scipy {lig['scipy_logic50_median_abs_err']:.7f} / "
      f"{lig['scipy_logic50_mean_abs_err']:.7f}; failed: ligand {lig['failed']}, scipy {sci['failed']}")
print(f"curves with an SSE above scipy's by more than 1e-6 (relative): {lig['sse_worse_than_scipy_1e-6']} "
      f"(largest ratio {lig['sse_max_ratio_to_scipy']:.10f})")
EOF
else
  echo "scipy: skipped (no Python with numpy, scipy and pandas; set PEERS_PYTHON)"
fi

# The command line, end to end, three passes; the median by CPU time.
for pass in 1 2 3; do
  /usr/bin/time -f "%e %U %S" -o "$WORK/time$pass" "$ROOT/target/release/ligand" fit \
    "$SHARED/data/dr4pl_n10000.csv.gz" --format csv -o "$WORK/fits.csv" --quiet
done
read -r CLI_WALL CLI_CPU < <(for p in 1 2 3; do awk '{printf "%s %.3f\n", $1, $2 + $3}' "$WORK/time$p"; done | sort -k2 -n | sed -n 2p)
echo "ligand fit (CLI, $(nproc) cores, end to end): ${CLI_WALL} s wall, ${CLI_CPU} CPU-s; $(($(wc -l < "$WORK/fits.csv") - 1)) curves written"
