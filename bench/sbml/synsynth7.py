"""synSynth7 (322 species, 337 reactions): load time and a 1000-second
simulation, ligand against libRoadRunner, measured in the same run.

    python3 -m venv /tmp/peers2 && /tmp/peers2/bin/pip install libroadrunner numpy
    cargo build --release -p ligand-cli
    /tmp/peers2/bin/python bench/sbml/synsynth7.py [MODEL] [LIGAND]

Both simulate 0..1000 s with 1001 output points, relative tolerance 1e-6 and
absolute tolerance 1e-20 (the model's amounts are about 1e-15: its compartment
is 1.05e-12 L and its concentrations are mM). ligand's times are wall-clock
times of the `ligand simulate` process (start-up included); "load" is a run
that only reads, compiles and initialises the model (`--times 0`).
libRoadRunner's load is `RoadRunner(path)` (parse and LLVM JIT compile; the first
load in the process, and the best later one, which libRoadRunner serves from its
cache of compiled models). The
best of five runs is reported, with the ratio libRoadRunner / ligand (> 1:
ligand is faster), and the largest difference of the final amounts.
"""

import os
import subprocess
import sys
import time

import numpy as np
import roadrunner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "..", "shared", "data", "findsim", "models", "synSynth7.xml")
LIGAND = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "release", "ligand")
RTOL, ATOL, REPS = 1e-6, 1e-20, 5


def best(f):
    out, ts = None, []
    for _ in range(REPS):
        t0 = time.perf_counter()
        out = f()
        ts.append(time.perf_counter() - t0)
    return min(ts), out


def rr_load():
    return roadrunner.RoadRunner(MODEL)


def rr_sim():
    r = roadrunner.RoadRunner(MODEL)
    r.integrator.relative_tolerance = RTOL
    r.integrator.absolute_tolerance = ATOL
    ids = list(r.model.getFloatingSpeciesIds())
    r.timeCourseSelections = ["time"] + ids
    t0 = time.perf_counter()
    res = np.asarray(r.simulate(0, 1000, 1001))
    return time.perf_counter() - t0, ids, res


def ligand(args):
    return subprocess.run([LIGAND, "simulate", MODEL, "--quiet"] + args,
                          capture_output=True, text=True, check=True).stdout


def main():
    t0 = time.perf_counter()
    rr_load()
    rr_cold_t = time.perf_counter() - t0
    rr_load_t, _ = best(rr_load)
    sims = [rr_sim() for _ in range(REPS)]
    rr_sim_t = min(s[0] for s in sims)
    _, ids, res = sims[0]
    lg_load_t, _ = best(lambda: ligand(["--times", "0"]))
    args = ["--duration", "1000", "--steps", "1000", "--rtol", str(RTOL), "--atol", str(ATOL),
            "--vars", ",".join(ids), "--amounts", ",".join(ids)]
    lg_total_t, out = best(lambda: ligand(args))
    lg_sim_t = max(lg_total_t - lg_load_t, 1e-9)
    rows = [l for l in out.splitlines() if l and not l.startswith("#")]
    final = np.array([float(x) for x in rows[-1].split(",")[1:]])
    ref = res[-1, 1:]
    scale = np.abs(ref).max()
    diff = np.abs(final - ref).max() / scale
    print("libRoadRunner %s, %d species" % (roadrunner.__version__, len(ids)))
    print("load:     libRoadRunner %.4f s first (JIT), %.4f s cached; ligand %.4f s (process);"
          " ratio %.1f first, %.1f cached"
          % (rr_cold_t, rr_load_t, lg_load_t, rr_cold_t / lg_load_t, rr_load_t / lg_load_t))
    print("simulate: libRoadRunner %.4f s, ligand %.4f s (run minus load), ratio %.1f"
          % (rr_sim_t, lg_sim_t, rr_sim_t / lg_sim_t))
    print("final amounts: largest difference %.2e of the largest amount" % diff)


if __name__ == "__main__":
    main()
