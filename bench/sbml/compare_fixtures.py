"""Compares ligand with the libRoadRunner fixtures of roadrunner_fixtures.py.

    python3 bench/sbml/compare_fixtures.py LIGAND MODEL_DIR FIXTURE_DIR

For each fixture ID.csv, runs `LIGAND simulate MODEL_DIR/**/ID.xml` at the
fixture's times, reporting every column as an amount, and prints the largest
error relative to `1e-6 * max(max|column|, 1e-6 * max|all|) + 1e-4 * |value|`
(agreement: <= 1): amounts below a millionth of the model's largest are noise
for both simulators.
"""

import glob
import math
import os
import subprocess
import sys


def read(text):
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    head = lines[0].split(",")
    rows = [[float(x) for x in l.split(",")] for l in lines[1:]]
    return head, rows


def main():
    ligand, model_dir, fix_dir = sys.argv[1:4]
    for fx in sorted(glob.glob(os.path.join(fix_dir, "*.csv"))):
        mid = os.path.splitext(os.path.basename(fx))[0]
        model = glob.glob(os.path.join(model_dir, "**", mid + ".xml"), recursive=True)[0]
        head, rows = read(open(fx).read())
        species = head[1:]
        times = [r[0] for r in rows]
        cmd = [ligand, "simulate", model, "--quiet", "--rtol", "1e-9", "--atol", "1e-20",
               "--times", ",".join(repr(t) for t in times),
               "--vars", ",".join(species), "--amounts", ",".join(species)]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            print(mid, "ligand failed:", p.stderr.strip().splitlines()[-1][:200] if p.stderr.strip() else "")
            continue
        oh, orows = read(p.stdout)
        worst, where = 0.0, ""
        biggest = max([abs(v) for r in rows for v in r[1:]] + [0.0])
        for j, s in enumerate(species, start=1):
            k = oh.index(s)
            scale = max(max(abs(r[j]) for r in rows), 1e-6 * biggest)
            for r, o in zip(rows, orows):
                err = abs(o[k] - r[j]) / (1e-6 * scale + 1e-4 * abs(r[j]) + 1e-300)
                if not math.isfinite(err) or err > worst:
                    worst, where = err, "%s at t=%g: %g vs %g" % (s, r[0], o[k], r[j])
        print(mid, "agree" if worst <= 1 else "DIFFER", "%.3g" % worst, where)


if __name__ == "__main__":
    main()
