#!/bin/sh
# Times `ligand simulate` on the generated chains: load (a run with only the
# initial time) and a 10-step time course. Usage: run.sh LIGAND [N...]
# Each run is cut off after $LIMIT seconds (default 120) and then shows ">LIMIT".
LIGAND=${1:?usage: run.sh LIGAND [N...]}
shift
LIMIT=${LIMIT:-120}
DIR=$(dirname "$0")
for n in ${*:-1000 10000 100000}; do
  for kind in irreversible reversible; do
    f=/tmp/scale-chain-$kind-$n.ant
    [ -f "$f" ] || python3 "$DIR/gen_chain.py" "$n" $([ $kind = reversible ] && echo --reversible) > "$f"
    for mode in load simulate; do
      if [ $mode = load ]; then args="--times 0"; else args="--duration 10 --steps 10"; fi
      start=$(date +%s.%N)
      if timeout "$LIMIT" "$LIGAND" simulate "$f" $args --vars S0 > /dev/null 2> /tmp/scale-err.txt; then
        t=$(echo "$(date +%s.%N) - $start" | bc)
        printf '%s\t%s\t%s\t%.2f\n' "$n" "$kind" "$mode" "$t"
      else
        printf '%s\t%s\t%s\t>%s (or failed: %s)\n' "$n" "$kind" "$mode" "$LIMIT" "$(head -c 200 /tmp/scale-err.txt)"
      fi
    done
  done
done
