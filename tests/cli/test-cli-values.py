#!/usr/bin/python3
"""`write` takes values with units (3.65V, 3650mV, "3.65 V") and converts
them to the field's unit; a unit of another quantity is refused, and a bare
number a thousand times too small says how to write it. `read` says
"Not used" for a high-voltage protection at 0 (as the window does) and keeps
its columns when a label or a value is wider than its column, and shows
the manufacture date and the software version as the window does.

usage: test-cli-values.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from taplib import Tap, run

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()

status, out, err = run([CLI, "write", "--help"])
tap.ok(status == 0 and "3.65V" in out and "3650mV" in out,
       "write --help shows values with units", out)

for value in ("3650", "3650mV", "3.65V", "3.65 V", "3.65v", " 3.65 V "):
    status, out, err = run([CLI, "write", "--port", "sim://", "--dry-run",
                            f"cell_ovp_mv={value}"])
    tap.ok(status == 0 and "cell_ovp_mv = 3650 mV" in out,
           f"cell_ovp_mv={value!r} is 3650 mV", f"status {status}\n{out}\n{err}")

status, out, err = run([CLI, "write", "--port", "sim://", "--dry-run", "cell_ovp_delay_s=5s"])
tap.ok(status == 0 and "cell_ovp_delay_s = 5 s" in out, "cell_ovp_delay_s=5s is 5 s",
       f"status {status}\n{out}\n{err}")

status, out, err = run([CLI, "write", "--port", "sim://", "--dry-run", "cell_ovp_mv=3.65A"])
tap.ok(status == 2 and "A is not a unit of this field" in err and "mV" in err,
       "a current's unit on a voltage is refused, naming the field's unit",
       f"status {status}\n{err}")

status, out, err = run([CLI, "write", "--port", "sim://", "--dry-run", "cell_ovp_mv=3.65"])
tap.ok(status == 2 and "Did you mean 3.65V (3650 mV)" in err,
       "cell_ovp_mv=3.65 is refused with how to write 3.65 V", f"status {status}\n{err}")

# read: text fields formatted as in the window (the simulator sends the
# date "2601" and the version "PWSIM_S1.0.0___", padded as real boards do).
status, out, err = run([CLI, "read", "--port", "sim://"])
rows = {line.split()[-1]: line for line in out.splitlines() if line.startswith("  ")}
date_row = rows.get("manufacture_date", "")
version_row = rows.get("software_version", "")
tap.ok(status == 0 and "January 2026" in date_row and "2601" not in date_row,
       "read shows the manufacture date as a month", out)
tap.ok(re.search(r"\sPWSIM_S1\.0\.0\s+software_version$", version_row) is not None,
       "read shows the software version without its padding", version_row)
tap.ok(out.splitlines()[0].endswith("software PWSIM_S1.0.0"),
       "the header names the version without its padding", out.splitlines()[:1])

# read: a master whose high-voltage over-voltage protection is off (0).
workdir = tempfile.mkdtemp(prefix="packwatch-cli-values-")
signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))
sim = None
try:
    state = os.path.join(workdir, "state.ini")
    link = os.path.join(workdir, "pty")
    with open(state, "w") as f:
        f.write("[parameters]\npack_ovp_hv_v=0\n")
    sim = subprocess.Popen([SIM, "--modules", "16", "--no-wire-timing", "--state", state,
                            "--pty", link], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    ready = sim.stdout.readline().strip() == link
    tap.ok(ready, "packwatch-sim serves a 256-cell master")
    status, out, err = run([CLI, "read", "--port", link])
    tap.ok(status == 0, "read exits 0", err)
    lines = out.splitlines()
    hv = [i for i, line in enumerate(lines) if line.rstrip().endswith(" pack_ovp_hv_v")]
    tap.ok(len(hv) == 1 and "Not used" in lines[hv[0]] and "0.00 V" not in lines[hv[0]],
           "a high-voltage protection at 0 reads \"Not used\"", out)
    # Every row that ends with a field's name has that name in one column.
    key = re.compile(r"^  \S.*\s([a-z][a-z0-9_]*)$")
    columns = {len(line) - len(m.group(1)) for line in lines
               if (m := key.match(line)) and not line.startswith("    ")}
    tap.ok(len(columns) == 1, "the names of the fields stay in one column",
           f"columns {sorted(columns)}\n{out}")
    long_label = [line for line in lines if line.strip() ==
                  "Pack over-voltage protection (high voltage)"]
    tap.ok(len(long_label) == 1, "a label wider than its column has a line of its own", out)
finally:
    if sim is not None:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
tap.done()
