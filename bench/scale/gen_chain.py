#!/usr/bin/env python3
"""Write a linear mass-action chain S0 -> S1 -> ... -> Sn as an Antimony model.

Usage: gen_chain.py N [--reversible] > chain.ant

The irreversible chain with k_i = 1 starting from S0 = 1 has the analytic
solution S_i(t) = t^i e^{-t} / i! (a Poisson distribution over i), which the
tests in crates/sim/tests/ compare against. No dependencies beyond Python 3.
"""
import sys


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    n = int(argv[1])
    reversible = "--reversible" in argv[2:]
    out = sys.stdout
    kind = "reversible" if reversible else "irreversible"
    out.write(f"// Linear {kind} mass-action chain of {n + 1} species (bench/scale/gen_chain.py)\n")
    out.write("model chain\n")
    out.write("  compartment cell = 1\n")
    for i in range(n):
        if reversible:
            out.write(f"  J{i}: S{i} -> S{i + 1}; k * S{i} - kr * S{i + 1}\n")
        else:
            out.write(f"  J{i}: S{i} => S{i + 1}; k * S{i}\n")
    out.write("  k = 1\n")
    if reversible:
        out.write("  kr = 0.5\n")
    out.write("  S0 = 1\n")
    for i in range(1, n + 1):
        out.write(f"  S{i} = 0\n")
    out.write("end\n")


if __name__ == "__main__":
    main(sys.argv)
