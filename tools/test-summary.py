#!/usr/bin/python3
"""Print 'N passed, N failed' from meson's testlog.json.

Counts TAP subtests where a test reports them, so the line says how many
checks ran, not only how many test programs."""
import json
import sys

passed = failed = skipped = 0
try:
    with open(sys.argv[1]) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            result = t.get("result")
            if result in ("SKIP",):
                skipped += 1
            elif result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            else:
                failed += 1
except FileNotFoundError:
    print("no test log: the build failed before any test ran", file=sys.stderr)
    failed = 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
