"""PEtab benchmark problems at their nominal parameters: how many reproduce the
published simulatedData files through `ligand simulate`.

    python3 bench/sbml/petab.py [BENCHMARK_DIR] [LIGAND]

For each problem (a folder with model_*.xml, parameters_*.tsv,
experimentalCondition_*.tsv, observables_*.tsv and simulatedData_*.tsv), each
simulation condition is simulated with every model parameter of the parameter
table at its nominal value and the condition's overrides (`--set`), at the
times of the simulatedData rows; each observable formula is evaluated on the
result (observable parameters substituted from the row). A problem reproduces
when every row agrees: |ligand - published| <= 1e-3 |published| + 1e-6 max|published|.
Problems needing what this script does not do (preequilibration, steady-state
times, PEtab v2 file names) are reported as such. Only Python's standard
library is used.
"""

import csv
import glob
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BENCH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    ROOT, "..", "shared", "data", "petab-benchmark", "Benchmark-Models")
LIGAND = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "release", "ligand")

FUNCS = {n: getattr(math, n) for n in ["exp", "log", "log10", "log2", "sqrt", "sin", "cos", "tan",
                                      "sinh", "cosh", "tanh", "pi", "e"]}
FUNCS.update({"abs": abs, "min": min, "max": max, "ln": math.log, "pow": pow})


def tsv(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [{(k or "").strip(): (v or "").strip() for k, v in r.items()}
                for r in csv.DictReader(f, delimiter="\t")]


def one(d, pattern):
    files = sorted(glob.glob(os.path.join(d, pattern)))
    return files[0] if files else None


def number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def model_ids(path):
    ids = set()
    for el in ET.parse(path).iter():
        tag = el.tag.split("}")[-1]
        if tag in ("species", "parameter", "compartment") and el.get("id"):
            ids.add(el.get("id"))
    return ids


def evaluate(formula, env):
    expr = formula.replace("^", "**")
    expr = re.sub(r"\b(true|false)\b", lambda m: "1" if m.group(1) == "true" else "0", expr)
    return float(eval(expr, {"__builtins__": {}}, env))


def problem(d):
    name = os.path.basename(d)
    model = one(d, "model_*.xml")
    files = [one(d, p) for p in ("parameters_*.tsv", "experimentalCondition_*.tsv",
                                 "observables_*.tsv", "simulatedData_*.tsv")]
    if model is None or None in files:
        return name, "skipped: not PEtab v1 file names, or no simulatedData"
    params = {r["parameterId"]: number(r["nominalValue"]) for r in tsv(files[0])}
    conditions = {r["conditionId"]: r for r in tsv(files[1])}
    observables = {r["observableId"]: r for r in tsv(files[2])}
    rows = tsv(files[3])
    ids = model_ids(model)
    if any(r.get("preequilibrationConditionId") for r in rows):
        return name, "skipped: preequilibration"
    if any(not math.isfinite(float(r["time"])) for r in rows):
        return name, "skipped: steady-state times"
    scale = max(abs(float(r["simulation"])) for r in rows) or 1.0
    by_cond = {}
    for r in rows:
        by_cond.setdefault(r["simulationConditionId"], []).append(r)
    worst = ""
    for cond, crow in by_cond.items():
        if cond not in conditions:
            return name, "skipped: condition %s not in the condition table" % cond
        sets = {p: v for p, v in params.items() if p in ids and v is not None}
        for k, v in conditions.get(cond, {}).items():
            if k in ("conditionId", "conditionName") or k not in ids or v == "":
                continue
            val = number(v)
            if val is None:
                val = params.get(v)
            if val is None or math.isnan(val):
                continue
            sets[k] = val
        names = set()
        for r in crow:
            names |= set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", observables[r["observableId"]]["observableFormula"]))
        vars_ = sorted(n for n in names if n in ids)
        times = sorted({float(r["time"]) for r in crow} | {0.0})
        cmd = [LIGAND, "simulate", model, "--quiet", "--rtol", "1e-8", "--atol", "1e-14",
               "--times", ",".join(repr(t) for t in times)]
        if vars_:
            cmd += ["--vars", ",".join(vars_)]
        if sets:
            cmd += ["--set", ",".join("%s=%r" % kv for kv in sorted(sets.items()))]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return name, "ligand: " + (p.stderr.strip().splitlines() or ["failed"])[-1][:160]
        lines = [l for l in p.stdout.splitlines() if l and not l.startswith("#")]
        head = lines[0].split(",")
        table = {float(l.split(",")[0]): dict(zip(head, map(float, l.split(",")))) for l in lines[1:]}
        for r in crow:
            env = dict(FUNCS)
            env.update({k: v for k, v in params.items() if v is not None})
            env.update(table[float(r["time"])])
            obs = observables[r["observableId"]]
            formula = obs["observableFormula"]
            vals = [v for v in (r.get("observableParameters") or "").split(";") if v != ""]
            for k, v in enumerate(vals, start=1):
                x = number(v)
                env["observableParameter%d_%s" % (k, r["observableId"])] = x if x is not None else params.get(v)
            try:
                ours = evaluate(formula, env)
            except Exception as e:  # an unknown name or function
                return name, "formula %s: %s" % (r["observableId"], e)
            ref = float(r["simulation"])
            if abs(ours - ref) > 1e-3 * abs(ref) + 1e-6 * scale:
                worst = "%s at t=%s in %s: %g instead of %g" % (r["observableId"], r["time"], cond, ours, ref)
                return name, "differs: " + worst
    return name, "reproduced"


def main():
    results = []
    for d in sorted(glob.glob(os.path.join(BENCH, "*"))):
        if os.path.isdir(d):
            try:
                results.append(problem(d))
            except Exception as e:  # a table this script cannot read
                results.append((os.path.basename(d), "error: %r" % e))
    for name, what in results:
        print("%-36s %s" % (name, what))
    n = sum(1 for _, w in results if w == "reproduced")
    print("\n%d of %d problems reproduce their simulatedData" % (n, len(results)))


if __name__ == "__main__":
    main()
