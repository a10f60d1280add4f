#!/usr/bin/python3
"""packwatch-cli health on synthetic histories (make-health-history writes a
pack with a known resistance per cell): the JSON's exact shape, resistances
against the truth, the planted weak cell named, null without evidence, the
table, --device, --from/--to and the errors.

usage: test-cli-health.py PATH-TO-packwatch-cli PATH-TO-make-health-history"""
import json
import os
import sys
import tempfile

from taplib import Tap, run

CLI, MAKE = sys.argv[1], sys.argv[2]
tap = Tap()
tmp = tempfile.mkdtemp(prefix="cli-health-")
db = os.path.join(tmp, "h.db")

status, out, err = run([MAKE, db, "synth:weak", "2", "8", "23", "3", "1.6"], timeout=120)
if status != 0:
    tap.bail(f"make-health-history failed: {err}")
truth = {int(c): float(r) for c, r in (line.split() for line in out.splitlines())}

status, out, err = run([CLI, "health", "--db", db, "--json"], timeout=60)
tap.ok(status == 0, "health --json exits 0", err)
report = json.loads(out)
tap.ok(sorted(report) == ["cells", "steps_used", "suspects"], "top-level keys", sorted(report))
tap.ok(len(report["cells"]) == 8, "one entry per cell", len(report["cells"]))
tap.ok(all(sorted(c) == ["capacity_deviation_pct", "cell", "leak_ma", "resistance_confidence",
                         "resistance_mohm"] for c in report["cells"]), "cell keys", report["cells"][0])
tap.ok([c["cell"] for c in report["cells"]] == list(range(1, 9)), "cells numbered from 1")
errors = [abs(c["resistance_mohm"] / truth[c["cell"]] - 1) for c in report["cells"]]
tap.ok(max(errors) < 0.10, "every resistance within 10 % of the truth",
       [round(e * 100, 1) for e in errors])
tap.ok(all(0 < c["resistance_confidence"] <= 1 for c in report["cells"]), "confidence in (0, 1]")
tap.ok(isinstance(report["steps_used"], int) and report["steps_used"] > 50, "steps_used counted",
       report["steps_used"])
tap.ok(len(report["suspects"]) >= 1 and report["suspects"][0]["cell"] == 3,
       "the planted cell 3 (1.6 × resistance) is the first suspect", report["suspects"])
tap.ok(any("× the median resistance over" in r for r in report["suspects"][0]["reasons"]),
       "its reason names the resistance", report["suspects"][0]["reasons"])

status, out, err = run([CLI, "health", "--db", db], timeout=60)
tap.ok(status == 0 and "CELL" in out and "LEAK (mA)" in out, "the table has its header", out)
tap.ok("cell 3: " in out and "Suspects, worst first" in out, "the table names the suspect", out)
tap.ok(len([l for l in out.splitlines() if l.strip()[:1].isdigit() and len(l.split()) == 6]) == 8,
       "a row per cell", out)

# A range with no sample: every figure null, no suspect, the table says so.
status, out, err = run([CLI, "health", "--db", db, "--from", "2030-01-01", "--json"])
empty = json.loads(out) if status == 0 else {}
tap.ok(status == 0 and empty.get("steps_used") == 0 and empty.get("suspects") == []
       and all(c["resistance_mohm"] is None and c["leak_ma"] is None
               and c["capacity_deviation_pct"] is None and c["resistance_confidence"] is None
               for c in empty.get("cells", [])),
       "a range without samples gives null figures", out + err)
status, out, err = run([CLI, "health", "--db", db, "--from", "2030-01-01"])
tap.ok(status == 0 and "Not enough current steps yet" in out, "the table says why", out)

# A second device: --device is needed, and picks by key or name.
status, out, err = run([MAKE, db, "synth:other", "0.05", "4", "5"], timeout=60)
status, out, err = run([CLI, "health", "--db", db])
tap.ok(status == 2 and "several devices" in err and "--device" in err,
       "two devices without --device: a usage error naming them", err)
status, out, err = run([CLI, "health", "--db", db, "--device", "synth:other", "--json"])
tap.ok(status == 0 and len(json.loads(out)["cells"]) == 4, "--device KEY picks the device", err)
status, out, err = run([CLI, "health", "--db", db, "--device", "nosuch"])
tap.ok(status == 2 and "nosuch" in err, "an unknown device is a usage error", err)

status, out, err = run([CLI, "health", "--db", os.path.join(tmp, "missing.db")])
tap.ok(status == 2 and "no history database" in err, "a missing database is a usage error", err)
status, out, err = run([CLI, "health", "--db", db, "--from", "yesterday"])
tap.ok(status == 2 and "not a date" in err, "a bad --from is a usage error", err)
status, out, err = run([CLI, "health", "--db", db, "--from", "2026-02-01", "--to", "2026-01-01"])
tap.ok(status == 2 and "after --to" in err, "--from after --to is a usage error", err)
status, out, err = run([CLI, "health", "--db", db, "extra"])
tap.ok(status == 2, "arguments are refused", err)

for name in os.listdir(tmp):
    os.unlink(os.path.join(tmp, name))
os.rmdir(tmp)
tap.done()
