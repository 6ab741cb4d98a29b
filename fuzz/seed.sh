#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs from the repository (models, test data, docs
# examples) and, when it is there, ../shared/data/sbml-test-suite. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")"
root=..
mkdir -p corpus/expr corpus/antimony corpus/sbml corpus/table

# Antimony: model files, and every ```antimony block of the docs.
for f in "$root"/models/*/*.ant "$root"/crates/*/tests/data/*.ant; do
    if [ -f "$f" ]; then cp "$f" "corpus/antimony/$(basename "$f")"; fi
done
awk '/^```antimony/{n++; f=sprintf("corpus/antimony/doc-%03d.ant", n); on=1; next}
     /^```/{on=0} on{print > f}' "$root"/docs/*.md

# Expressions: the right-hand sides of the rate laws and rules of those models, one a file.
i=0
for f in corpus/antimony/*; do
    { grep -hoE '(;|:=|=)[^;=]+$' "$f" || true; } | sed -E 's/^(;|:=|=) *//' | while IFS= read -r line; do
        i=$((i + 1))
        printf '%s' "$line" > "corpus/expr/$(basename "$f")-$i"
    done
done
printf '%s' 'bottom + (top - bottom) / (1 + 10^((logec50 - x) * hill))' > corpus/expr/four-pl
printf '%s' 'piecewise(1, x < 0, 2^-x, x >= 1 && !(y == 2))' > corpus/expr/piecewise
printf '%s' 'min(a, b, c) * max(1, log(2, x)) - root(3, -8) * factorial(4) + erfc(x)' > corpus/expr/calls

# SBML: the test data in the repository, and the smaller files of the SBML test suite.
for f in "$root"/crates/*/tests/data/*/*.xml "$root"/crates/*/tests/data/*.xml; do
    if [ -f "$f" ]; then cp "$f" "corpus/sbml/$(basename "$f")"; fi
done
suite="$root/../shared/data/sbml-test-suite/semantic"
[ -d "$suite" ] || suite=/work/shared/data/sbml-test-suite/semantic
if [ -d "$suite" ]; then
    find "$suite" -name '*-sbml-l3v2.xml' -size -6k | sort | awk 'NR % 4 == 0' | head -400 |
        while read -r f; do cp "$f" "corpus/sbml/$(basename "$f")"; done
fi

# Tables: the CSV and TSV files of the test data (small ones).
find "$root"/crates -path '*/tests/data/*' \( -name '*.csv' -o -name '*.tsv' \) -size -64k |
    while read -r f; do cp "$f" "corpus/table/$(basename "$f")"; done
find "$root"/crates/cli -name '*.csv' -size -64k | while read -r f; do cp "$f" "corpus/table/$(basename "$f")"; done

for t in expr antimony sbml table; do
    echo "$t: $(find corpus/$t -type f | wc -l) seeds"
done
