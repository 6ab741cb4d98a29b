#!/usr/bin/env python3
"""Accuracy of a ligand MAPK scan, measured exactly as /work/shared/bench/bench_ode.py measures libRoadRunner's:
the final states of the first 20 parameter sets against scipy Radau (rtol 1e-10, atol 1e-14), as
max over species of |y - y_ref| / |y_ref|.

    python accuracy.py LIGAND_FINAL_ONLY.csv [PATH/TO/bench_ode.py]
"""
import csv
import importlib.util
import os
import sys

import numpy as np


def main():
    out = sys.argv[1]
    bench = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("BENCH_ODE", "/work/shared/bench/bench_ode.py")
    spec = importlib.util.spec_from_file_location("bench_ode", bench)
    b = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(b)
    m = b.MODELS["mapk"]
    rows = {}
    with open(out) as f:
        for rec in csv.DictReader(line for line in f if not line.startswith("#")):
            i = int(rec["row"])
            if i < 20:
                rows[i] = np.array([float(rec[s]) for s in m["species"]])
    P = b.param_sets(m, 20)
    t_grid = np.linspace(0.0, m["t_end"], b.NPTS)
    errs = [b.rel_err(rows[i][None, :], b.reference(m, P[i], t_grid)[-1:]) for i in range(20)]
    print("%.6g" % max(errs))


if __name__ == "__main__":
    main()
