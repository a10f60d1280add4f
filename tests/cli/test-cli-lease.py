#!/usr/bin/python3
"""packwatch-cli lease against packwatch-sim over TCP: shows "none", sets a
lease until a date (shown, read back and audited as that date, not as a Unix
time), refuses a past date, a non-date and --remove with --until before
anything is sent, and removes the lease again. `write lease_end=DATE` takes
the same date.

usage: test-cli-lease.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import calendar
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from taplib import Tap, run

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()
workdir = tempfile.mkdtemp(prefix="packwatch-lease-test-")
# Dates are local: pin the zone so the Unix times below are known.
os.environ["TZ"] = "UTC"
signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))

# 2027-03-31 to the end of the day: midnight UTC before April 1st.
END_2027_03_31 = calendar.timegm((2027, 4, 1, 0, 0, 0))


def start_sim():
    log = open(os.path.join(workdir, "sim.log"), "w+")
    proc = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing",
                             "--state", os.path.join(workdir, "sim.state")],
                            stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    port = proc.stdout.readline().strip()
    if not port.startswith("tcp://"):
        log.seek(0)
        tap.bail(f"simulator did not start: {port} {log.read()}")
    return proc, port


def lease(*args):
    return run([CLI, "lease", "--port", PORT] + list(args))


def lease_json():
    status, out, err = lease("--json")
    return json.loads(out) if status == 0 else {"error": err}


proc, PORT = start_sim()
try:
    status, out, err = lease()
    tap.ok(status == 0 and out.startswith("Lease:  none"), "a board without a lease shows none",
           out + err)
    tap.ok(lease_json() == {"state": "none", "end": None, "end_unix": 0, "code": ""},
           "--json: no end, end_unix 0", lease_json())

    db = os.path.join(workdir, "audit.db")
    status, out, err = lease("--password", "123456", "--until", "2027-03-31", "--code", "AB12",
                             "--db", db)
    tap.ok(status == 0 and "lease_end = 2027-03-31 24:00: ok (read back 2027-03-31 24:00)" in out
           and "lease_code = \"AB12\": ok" in out, "--until and --code write and read back", out + err)
    got = lease_json()
    tap.ok(got.get("end") == "2027-03-31 24:00" and got.get("end_unix") == END_2027_03_31
           and got.get("code") == "AB12" and got.get("state") == "active",
           "the lease runs to the end of the day given", got)
    status, out, err = lease()
    tap.ok(status == 0 and "Ends:   2027-03-31 24:00 (" in out and "Code:   AB12" in out,
           "the text shows the end as a date and the code", out + err)

    status, out, err = run([CLI, "audit", "--db", db])
    tap.ok(status == 0 and "2027-03-31 24:00" in out and str(END_2027_03_31) not in out
           and "none" in out, "the audit shows dates, not Unix times", out + err)

    for args, says in ((["--until", "2020-01-01"], "which has passed"),
                       (["--until", "31.03.2027"], "is not a date"),
                       (["--until", "2027-02-30"], "is not a date"),
                       (["--remove", "--until", "2027-03-31"], "--remove takes no --until")):
        status, out, err = lease("--password", "123456", *args)
        tap.ok(status == 2 and says in err and "nothing was sent" in err,
               f"{' '.join(args)} is refused before anything is sent", err)
    status, out, err = lease("--until", "2028-01-01")
    tap.ok(status == 2 and "--password is required" in err, "changing needs the password", err)
    tap.ok(lease_json().get("end_unix") == END_2027_03_31, "the refused runs changed nothing")

    status, out, err = lease("--password", "123456", "--remove", "--dry-run")
    tap.ok(status == 0 and "lease_end: 2027-03-31 24:00 → none" in out,
           "--remove --dry-run shows old → new as dates", out + err)
    status, out, err = lease("--password", "123456", "--remove")
    tap.ok(status == 0 and lease_json() == {"state": "none", "end": None, "end_unix": 0, "code": ""},
           "--remove clears end and code", out + err)

    status, out, err = run([CLI, "write", "--port", PORT, "--password", "123456",
                            "lease_end=2027-03-31"])
    tap.ok(status == 0 and lease_json().get("end_unix") == END_2027_03_31,
           "write lease_end=DATE takes the same date", out + err)
finally:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
tap.done()
