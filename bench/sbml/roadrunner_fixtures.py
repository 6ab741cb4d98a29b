"""Reference time courses of BioModels files from libRoadRunner, for ligand's tests.

Usage (a throwaway virtual environment; nothing of it is committed):

    python3 -m venv /tmp/peers2 && /tmp/peers2/bin/pip install libroadrunner numpy
    /tmp/peers2/bin/python bench/sbml/roadrunner_fixtures.py MODEL_DIR OUT_DIR [ID:DURATION ...]

For each model it writes OUT_DIR/ID.csv: the amounts of every floating species
at 101 evenly spaced times from 0 to DURATION (default 100), simulated by
libRoadRunner's CVODE with relative tolerance 1e-10 and absolute tolerance
1e-16 (scaled by libRoadRunner per species). The header line names the columns;
a first comment line records the libRoadRunner version and the settings.
"""

import glob
import os
import sys

import numpy as np
import roadrunner


def fixture(path, duration, out):
    r = roadrunner.RoadRunner(path)
    r.integrator.relative_tolerance = 1e-10
    r.integrator.absolute_tolerance = 1e-16
    r.integrator.maximum_num_steps = 1000000
    ids = list(r.model.getFloatingSpeciesIds())
    r.timeCourseSelections = ["time"] + ids
    res = r.simulate(0, duration, 101)
    with open(out, "w") as f:
        f.write(
            "# libRoadRunner %s, CVODE rtol 1e-10 atol 1e-16, amounts, %s\n"
            % (roadrunner.__version__, os.path.basename(path))
        )
        f.write(",".join(["time"] + ids) + "\n")
        for row in np.asarray(res):
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def main():
    model_dir, out_dir = sys.argv[1], sys.argv[2]
    durations = dict(a.split(":") for a in sys.argv[3:])
    os.makedirs(out_dir, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(model_dir, "**", "*.xml"), recursive=True)):
        mid = os.path.splitext(os.path.basename(path))[0]
        if durations and mid not in durations:
            continue
        d = float(durations.get(mid, 100))
        try:
            fixture(path, d, os.path.join(out_dir, mid + ".csv"))
            print(mid, "ok")
        except Exception as e:  # report and go on
            print(mid, "failed:", str(e).splitlines()[0][:200])


if __name__ == "__main__":
    main()
