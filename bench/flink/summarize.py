#!/usr/bin/env python3
"""Prints a markdown table from run.sh's results.tsv files: for each case, the
run that other processes disturbed least (lowest other CPU-seconds per wall
second), with Rivulet's old Flink figure beside Nexmark's queries.

usage: summarize.py RESULTS.tsv... [--heap 8g]
"""
import sys

OLD = {"q0": 476, "q1": 579, "q2": 603, "q3": 467, "q4": 189, "q5": 396, "q7": 144,
       "q8": 458, "q9": 138, "q10": 420, "q11": 354, "q12": 399, "q14": 498, "q15": 181,
       "q16": 54, "q17": 303, "q18": 235, "q19": 207, "q20": 182, "q21": 291, "q22": 392}

args = sys.argv[1:]
heap = None
if "--heap" in args:
    i = args.index("--heap")
    heap = args[i + 1]
    del args[i:i + 2]
rows = []
for path in args:
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            v = dict(zip(header, line.rstrip("\n").split("\t")))
            if v.get("rows", "FAILED") == "FAILED" or not v.get("cpu_s"):
                continue
            if heap and v.get("heap") != heap:
                continue
            rows.append(v)
best = {}
runs = {}
for v in rows:
    key = (v["case"], v["rows"])
    runs.setdefault(key, []).append(float(v["cpu_s"]))
    other = float(v.get("other_cpu_s") or "nan") / float(v["wall_s"])
    v["_other"] = other
    cur = best.get(key)
    if cur is None or (other == other and not (cur["_other"] <= other)):
        best[key] = v


def order(key):
    case, n = key
    name = case.split("-", 1)[1]
    num = int(name[1:]) if case.startswith("nexmark-q") else 999
    return (case.split("-")[0], int(n), num, name)


print("| case | rows | CPU-s | M rows/CPU-s | wall s | M rows/wall-s | job net s | GC s | peak RSS MB | heap | other CPU / wall | CPU-s of all runs | old Flink M/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(best, key=order):
    v = best[key]
    q = v["case"].split("-", 1)[1]
    old = OLD.get(q) if v["case"].startswith("nexmark") else None
    n = int(v["rows"])
    all_cpu = sorted(runs[key])
    spread = "%.0f" % all_cpu[0] if len(all_cpu) == 1 else "%.0f – %.0f (%d)" % (all_cpu[0], all_cpu[-1], len(all_cpu))
    print("| %s | %d | %.1f | %.3f | %.1f | %.3f | %.1f | %.1f | %s | %s | %s | %s | %s |" % (
        v["case"], n, float(v["cpu_s"]), n / float(v["cpu_s"]) / 1e6, float(v["wall_s"]),
        n / float(v["wall_s"]) / 1e6, float(v["job_net_s"]), float(v["gc_s"]), v["peak_rss_mb"],
        v.get("heap", ""), "?" if v["_other"] != v["_other"] else "%.2f" % v["_other"], spread,
        "%.3f" % (old / 1000) if old else ""))
