#!/usr/bin/env bash
# Runs the fuzz targets one after another, each for the given number of seconds, at the lowest
# priority, so that a shared machine keeps its other work. Logs go to fuzz/logs/<target>.log,
# and the CPU seconds each run took are appended to fuzz/logs/cpu.tsv.
#
# Usage: fuzz/rotate.sh SECONDS [TARGET...]   (default: expr antimony sbml table)
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:?seconds per target}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(expr antimony sbml table)
mkdir -p logs artifacts
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    start=$(date +%s)
    # -fork would use more cores; one process only. Crashes are kept and fuzzing goes on.
    /usr/bin/time -f "%U %S" -o "logs/$t.time" nice -n 19 cargo fuzz run --fuzz-dir . "$t" \
        "corpus/$t" -- -max_total_time="$secs" -max_len=20000 -rss_limit_mb=4096 \
        -timeout=20 -artifact_prefix="artifacts/$t/" -print_final_stats=1 \
        >> "logs/$t.log" 2>&1
    status=$?
    read -r user sys < <(tail -1 "logs/$t.time")
    printf '%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$(( $(date +%s) - start ))" \
        "$(echo "$user + $sys" | bc)" "$status" >> logs/cpu.tsv
done
