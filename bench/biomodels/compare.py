"""Does `ligand simulate` at its default tolerances agree with a tight run and with libRoadRunner?

    python3 bench/biomodels/compare.py LIGAND MODEL_DIR [--duration 100] [--points 101]
        [--cache DIR] [--only ID,ID] [--ligand-args "..."]

For every SBML file under MODEL_DIR (recursively), three time courses of the
amounts of every species at `points` evenly spaced times from 0 to `duration`:

- `default`: `LIGAND simulate` with no tolerance options (what a user gets);
- `tight`:   `LIGAND simulate --rtol 1e-10 --atol 1e-30` (absolute, in amounts: below
             every amount of every model here, so independent of the default rule);
- `rr`:      libRoadRunner (CVODE, rtol 1e-10, atol 1e-16 times the largest initial
             amount: the models in mol with femtolitre compartments hold 1e-21 mol),
             when the `roadrunner` module imports (`pip install libroadrunner`).

Each pair is compared column by column: the error of a value is
`|a - b| / (1e-3 |b| + 1e-4 s + 1e-9 B)`, where `s` is the column's largest
magnitude over time and `B` the model's largest amount (differences below a
billionth of it are noise for every simulator: CVODE's and COPASI's default
absolute tolerance, 1e-12, is that for a model whose amounts are of order
1000). A model *agrees* when its largest error is at most 1: every value
within 0.1 % of the reference, or within 0.01 % of its species' range. That
is a material difference, not a rounding one: a run at rtol 1e-6 should be
well inside it.

libRoadRunner results are cached in `--cache` (default /tmp/ligand-bm-cache),
keyed by model, duration and points, so that a second run only re-runs ligand.
Prints a Markdown table and a summary. Nothing here is part of ligand.
"""

import argparse
import glob
import json
import math
import os
import subprocess
import sys
import time


def read_csv(text):
    lines = [l for l in text.splitlines() if l and not l.startswith("#")]
    head = lines[0].split(",")
    rows = [[float(x) for x in l.split(",")] for l in lines[1:]]
    return head, rows


def ligand_run(ligand, model, species, times, extra, timeout):
    cmd = [ligand, "simulate", model, "--quiet",
           "--times", ",".join(repr(t) for t in times),
           "--vars", ",".join(species), "--amounts", ",".join(species)] + extra
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout", timeout
    dt = time.time() - t0
    if p.returncode != 0:
        last = p.stderr.strip().splitlines()
        msg = (last[-1] if last else "exit %d" % p.returncode).replace(model + ": ", "")
        return None, msg[:160], dt
    head, rows = read_csv(p.stdout)
    return (head, rows), None, dt


def ligand_species(ligand, model):
    p = subprocess.run([ligand, "simulate", model, "--quiet", "--times", "0"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        last = p.stderr.strip().splitlines()
        return None, (last[-1] if last else "exit %d" % p.returncode)[:160]
    head = [l for l in p.stdout.splitlines() if not l.startswith("#")][0].split(",")
    return head[1:], None


def roadrunner_run(model, duration, points, cache):
    key = os.path.join(cache, "%s-%g-%d-v2.json" % (os.path.basename(model), duration, points))
    if os.path.exists(key):
        with open(key) as f:
            return json.load(f)
    try:
        import numpy as np
        import roadrunner
    except ImportError:
        return None
    try:
        r = roadrunner.RoadRunner(model)
        r.integrator.relative_tolerance = 1e-10
        amounts = [abs(v) for v in r.model.getFloatingSpeciesAmounts()]
        r.integrator.absolute_tolerance = 1e-16 * (max(amounts + [0.0]) or 1.0)
        r.integrator.maximum_num_steps = 1000000
        ids = list(r.model.getFloatingSpeciesIds())
        r.timeCourseSelections = ["time"] + ids
        res = np.asarray(r.simulate(0, duration, points))
        out = {"head": ["time"] + ids, "rows": [[float(v) for v in row] for row in res],
               "version": roadrunner.__version__}
    except Exception as e:  # libRoadRunner refuses some models: record why
        out = {"error": str(e).splitlines()[0][:160] if str(e) else type(e).__name__}
    os.makedirs(cache, exist_ok=True)
    with open(key, "w") as f:
        json.dump(out, f)
    return out


def compare(a, b):
    """Largest error of `a` against reference `b` (both (head, rows)) over b's columns."""
    (ha, ra), (hb, rb) = a, b
    if len(ra) != len(rb):
        return math.inf, "%d rows instead of %d" % (len(ra), len(rb))
    cols = [(j, ha.index(s)) for j, s in enumerate(hb) if j > 0 and s in ha]
    biggest = max([abs(r[j]) for r in rb for j, _ in cols] + [0.0])
    worst, where = 0.0, ""
    for j, k in cols:
        scale = max(abs(r[j]) for r in rb)
        for x, y in zip(ra, rb):
            err = abs(x[k] - y[j]) / (1e-3 * abs(y[j]) + 1e-4 * scale + 1e-9 * biggest + 1e-300)
            if not math.isfinite(err) or err > worst:
                worst = err if math.isfinite(err) else math.inf
                where = "%s at t=%g: %.6g vs %.6g" % (hb[j], y[0], x[k], y[j])
    return worst, where


def fmt(e):
    if e is None:
        return "-"
    if isinstance(e, str):
        return e
    return "%.2g" % e if math.isfinite(e) else "inf"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ligand")
    ap.add_argument("model_dir")
    ap.add_argument("--duration", type=float, default=100.0)
    ap.add_argument("--points", type=int, default=101)
    ap.add_argument("--cache", default="/tmp/ligand-bm-cache")
    ap.add_argument("--only", default="")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--ligand-args", default="", help="extra options of the default run")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    times = [args.duration * i / (args.points - 1) for i in range(args.points)]
    models = sorted(glob.glob(os.path.join(args.model_dir, "**", "*.xml"), recursive=True))
    print("| model | species | default vs tight | default vs libRoadRunner | tight vs libRoadRunner | worst (default vs tight) |")
    print("|---|---|---|---|---|---|")
    summary = {"agree": [], "differ": [], "fail": []}
    for model in models:
        mid = os.path.splitext(os.path.basename(model))[0]
        if only and mid not in only:
            continue
        species, err = ligand_species(args.ligand, model)
        if species is None:
            print("| %s | - | ligand refuses: %s | | | |" % (mid, err.replace("|", "/")))
            summary["fail"].append(mid)
            sys.stdout.flush()
            continue
        extra = args.ligand_args.split() if args.ligand_args else []
        d, derr, _ = ligand_run(args.ligand, model, species, times, extra, args.timeout)
        t, terr, _ = ligand_run(args.ligand, model, species, times,
                                ["--rtol", "1e-10", "--atol", "1e-30"], args.timeout)
        rr = roadrunner_run(model, args.duration, args.points, args.cache)
        rrt = (rr["head"], rr["rows"]) if rr and "rows" in rr else None
        dt = compare(d, t) if d and t else (None, derr or terr)
        dr = compare(d, rrt) if d and rrt else (None, "")
        tr = compare(t, rrt) if t and rrt else (None, "")
        cells = []
        rerr = (rr or {}).get("error")
        label = lambda who, why: "%s fails: %s" % (who, why.replace("|", "/"))
        for (e, _), fail in ((dt, derr and label("default", derr) or terr and label("tight", terr)),
                             (dr, derr and label("default", derr) or rerr and label("libRoadRunner", rerr)),
                             (tr, terr and label("tight", terr) or rerr and label("libRoadRunner", rerr))):
            cells.append(fmt(e) if e is not None else (fail or "-"))
        ok = [e for e, _ in (dt, dr) if e is not None]
        if derr:
            summary["fail"].append(mid)
        elif ok and all(e <= 1 for e in ok):
            summary["agree"].append(mid)
        else:
            summary["differ"].append(mid)
        print("| %s | %d | %s | %s | %s | %s |" % (mid, len(species), cells[0], cells[1], cells[2],
                                                  (dt[1] or "").replace("|", "/")))
        sys.stdout.flush()
    print()
    print("agree (default within 1 of tight and of libRoadRunner where it runs): %d" % len(summary["agree"]))
    print("differ: %d %s" % (len(summary["differ"]), " ".join(summary["differ"])))
    print("ligand fails at the defaults: %d %s" % (len(summary["fail"]), " ".join(summary["fail"])))


if __name__ == "__main__":
    main()
