#!/usr/bin/env bash
# The MAPK parameter scan, ligand against libRoadRunner in the same run.
#
#   bench/ode/run.sh [NSCAN]            (default 10000; run from anywhere)
#
# Model: Kholodenko 2000 MAPK cascade (/work/shared/bench/models/kholodenko2000_mapk.ant), the parameter sets of
# /work/shared/bench/data/mapk_scan_params.csv, t = 0..5000 s with 1000 output points, rtol 1e-6, atol 1e-12.
# ligand: `ligand simulate --scan ... --final-only` (every simulation computes all 1000 output points; only the
# last row is written), timed with /usr/bin/time (user + system CPU seconds of the whole process: model load,
# parsing the table, all simulations on every core, writing the output). libRoadRunner: bench_ode.py --task scan
# (process CPU time of its simulation loop, median of 3 passes). Accuracy: the final states of the first 20
# parameter sets against scipy Radau at rtol 1e-10, measured the same way for both.
#
# Environment: SHARED (default /work/shared/bench), PEERS_PYTHON (a Python with libroadrunner and scipy:
# default $SHARED/../.venv-peers/bin/python, else /tmp/peers/bin/python; see $SHARED/README.md to make one).
set -euo pipefail
NSCAN=${1:-10000}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHARED=${SHARED:-/work/shared/bench}
if [[ -z "${PEERS_PYTHON:-}" ]]; then
  for p in "$SHARED/.venv-peers/bin/python" "$ROOT/.venv-peers/bin/python" /tmp/peers/bin/python; do
    if [[ -x "$p" ]]; then PEERS_PYTHON=$p; break; fi
  done
fi
MODEL=$SHARED/models/kholodenko2000_mapk.ant
PARAMS=$SHARED/data/mapk_scan_params.csv
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

(cd "$ROOT" && cargo build --release -q -p ligand-cli)
LIGAND=$ROOT/target/release/ligand

head -n $((NSCAN + 1)) "$PARAMS" > "$WORK/params.csv"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# ligand: three passes, the median CPU time.
for pass in 1 2 3; do
  /usr/bin/time -f "%e %U %S" -o "$WORK/time$pass" "$LIGAND" simulate "$MODEL" \
    --duration 5000 --steps 999 --rtol 1e-6 --atol 1e-12 \
    --scan "$WORK/params.csv" --final-only --quiet -o "$WORK/ligand.csv"
done
read -r LIG_WALL LIG_CPU < <(for p in 1 2 3; do awk '{printf "%s %.3f\n", $1, $2 + $3}' "$WORK/time$p"; done | sort -k2 -n | sed -n 2p)
LIG_RATE=$(awk -v n="$NSCAN" -v c="$LIG_CPU" 'BEGIN { printf "%.1f", n / c }')
LIG_RATE_WALL=$(awk -v n="$NSCAN" -v c="$LIG_WALL" 'BEGIN { printf "%.1f", n / c }')
echo "ligand:       $NSCAN simulations, ${LIG_CPU} CPU-s (${LIG_WALL} s wall): $LIG_RATE per CPU-second ($LIG_RATE_WALL per second wall)"

if [[ -z "${PEERS_PYTHON:-}" ]]; then
  echo "libRoadRunner: skipped (no Python with libroadrunner; set PEERS_PYTHON)"
  exit 0
fi
LIG_ERR=$("$PEERS_PYTHON" "$HERE/accuracy.py" "$WORK/ligand.csv" "$SHARED/bench_ode.py")
echo "ligand:       max relative error of the final states (first 20 sets) vs scipy Radau: $LIG_ERR"

RR=$("$PEERS_PYTHON" "$SHARED/bench_ode.py" --model mapk --tool roadrunner --task scan --nscan "$NSCAN")
RR_RATE=$(echo "$RR" | "$PEERS_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["sims_per_s_cpu"])')
RR_ERR=$(echo "$RR" | "$PEERS_PYTHON" -c 'import json,sys; print("%.6g" % json.load(sys.stdin)["max_rel_err_final_state_first20"])')
RR_VER=$(echo "$RR" | "$PEERS_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["version"])')
echo "libRoadRunner $RR_VER: $RR_RATE per CPU-second; max relative error of the final states: $RR_ERR"
awk -v a="$LIG_RATE" -v b="$RR_RATE" 'BEGIN { printf "ratio (simulations per CPU-second, ligand / libRoadRunner): %.2f\n", a / b }'
