#!/usr/bin/env python3
"""Same-run comparison of ligand and libRoadRunner on the linear chain at scale.

Usage: compare_roadrunner.py LIGAND_BINARY N [N ...]

For each N, writes the irreversible chain S0 -> ... -> SN (k = 1, S0 = 1) as SBML Level 3 and
times, as separate processes, the wall time of
  - ligand: `ligand simulate chain.xml --duration 10 --steps 10 --quiet -o out.csv`
  - libRoadRunner: `RoadRunner(chain.xml)` then `simulate(0, 10, 11)`
and compares S0(10) and S5(10) with the analytic Poisson solution t^i e^-t / i!.
Needs a Python with `libroadrunner` (PyPI) for the peer; no other dependencies.
"""
import math
import os
import subprocess
import sys
import tempfile
import time


def write_sbml(n, path):
    with open(path, "w") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        f.write('<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">\n')
        f.write('<model id="chain" substanceUnits="mole" timeUnits="second" volumeUnits="litre" extentUnits="mole">\n')
        f.write('<listOfCompartments><compartment id="cell" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>\n<listOfSpecies>\n')
        for i in range(n + 1):
            f.write(f'<species id="S{i}" compartment="cell" initialConcentration="{1 if i == 0 else 0}" hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>\n')
        f.write('</listOfSpecies>\n<listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>\n<listOfReactions>\n')
        for i in range(n):
            f.write(f'<reaction id="J{i}" reversible="false"><listOfReactants><speciesReference species="S{i}" stoichiometry="1" constant="true"/></listOfReactants>'
                    f'<listOfProducts><speciesReference species="S{i + 1}" stoichiometry="1" constant="true"/></listOfProducts>'
                    f'<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>S{i}</ci></apply></math></kineticLaw></reaction>\n')
        f.write('</listOfReactions>\n</model>\n</sbml>\n')


PEER = r"""
import sys, time
t0 = time.time()
import roadrunner
r = roadrunner.RoadRunner(sys.argv[1])
t1 = time.time()
res = r.simulate(0, 10, 11, ["time", "[S0]", "[S5]"])
t2 = time.time()
print(t1 - t0, t2 - t1, res[-1, 1], res[-1, 2])
"""


def main(argv):
    ligand, sizes = argv[1], [int(a) for a in argv[2:]]
    exact0, exact5 = math.exp(-10), 10 ** 5 * math.exp(-10) / math.factorial(5)
    print("species | ligand wall s | ligand S0 rel err | roadrunner load s | roadrunner simulate s | roadrunner S0 rel err")
    with tempfile.TemporaryDirectory() as d:
        for n in sizes:
            xml = os.path.join(d, f"chain{n}.xml")
            write_sbml(n, xml)
            out = os.path.join(d, "out.csv")
            t0 = time.time()
            subprocess.run([ligand, "simulate", xml, "--duration", "10", "--steps", "10", "--quiet", "-o", out], check=True)
            lw = time.time() - t0
            last = open(out).read().strip().splitlines()
            header, row = last[0].split(","), last[-1].split(",")
            ls0 = float(row[header.index("S0")])
            try:
                p = subprocess.run([sys.executable, "-c", PEER, xml], check=True, capture_output=True, text=True, timeout=600)
                rl, rs, rs0, _ = (float(v) for v in p.stdout.split())
                peer = f"{rl:.2f} | {rs:.2f} | {abs(rs0 / exact0 - 1):.1e}"
            except Exception as e:  # noqa: BLE001 - report the peer's failure in its row
                peer = f"failed: {type(e).__name__}"
            print(f"{n + 1} | {lw:.2f} | {abs(ls0 / exact0 - 1):.1e} | {peer}")


if __name__ == "__main__":
    main(sys.argv)
