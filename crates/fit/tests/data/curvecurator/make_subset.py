"""Writes curves_40.0_subset.tsv: every 4th curve of CurveCurator's CTRP 40 uM output.

Run from this folder with the shared collection at ../../../../../../shared (or pass its path):
    python3 make_subset.py /path/to/shared/data/dose-response/curvecurator/viability_CTRP_40/curves_40.0.txt
Only the standard library is used; values are copied as text, unchanged.
"""
import csv
import sys

KEEP = (["Name"] + ["Ratio %d" % j for j in range(17)]
        + ["pEC50", "Curve Slope", "Curve Front", "Curve Back", "pEC50 Error", "Curve RMSE",
           "Curve Regulation"])

src = sys.argv[1]
with open(src, newline="") as fh:
    rows = list(csv.DictReader(fh, delimiter="\t"))
with open("curves_40.0_subset.tsv", "w", newline="") as out:
    w = csv.writer(out, delimiter="\t", lineterminator="\n")
    w.writerow(KEEP)
    for i, row in enumerate(rows):
        if i % 4 == 0:
            w.writerow([row[k] for k in KEEP])
