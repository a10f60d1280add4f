#!/usr/bin/python3
"""`packwatch-cli log` runs the app's poller (BmsPoller), so a headless log
records what the app records, against packwatch-sim (TCP):

- a board with a dead cell (--fault-dead-cell): the alarm monitor's
  cell_under_voltage event is in the history (`packwatch-cli alarms`), as
  the app records it; the old loop of its own recorded none;
- the samples are kept under the board's device key (id:<device id>), the
  key the app uses, so both respect one claim;
- a board the app (another live process) records into the database is
  refused with exit status 4 naming that process.

usage: test-log-poller.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from taplib import Tap  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()


def start_sim(*extra):
    sim = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", *extra],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = sim.stdout.readline().strip()
    if not line.startswith("tcp://"):
        sim.kill()
        tap.bail(f"packwatch-sim did not start: {line!r} {sim.stderr.read()}")
    return sim, line


def run(*argv):
    p = subprocess.run([CLI, *argv], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory(prefix="log-poller-") as tmp:
    sim, uri = start_sim("--fault-dead-cell", "3")
    try:
        db = os.path.join(tmp, "alarms.db")
        status, out, err = run("log", "--port", uri, "--db", db, "--interval", "0.2",
                               "--duration", "1.5")
        tap.ok(status == 0 and "samples saved" in err, "log against a dead cell: exit 0", err)
        status, out, aerr = run("alarms", "--db", db)
        tap.ok(status == 0 and "cell_under_voltage" in out and "raised" in out
               and "cell 3" in out, "the alarm monitor's event is in the history", out + aerr)
        con = sqlite3.connect(db)
        rows = con.execute("SELECT d.key, count(s.t_ms) FROM devices d JOIN samples s"
                           " ON s.device_id = d.id GROUP BY d.key").fetchall()
        con.close()
        tap.ok(len(rows) == 1 and rows[0][0].startswith("id:") and rows[0][1] > 0,
               "samples kept under the board's device key, as the app keeps them", rows)

        # The app records this board: a live process holds the device key.
        key = rows[0][0] if rows else "id:?"
        db2 = os.path.join(tmp, "app.db")
        status, out, err = run("log", "--port", uri, "--db", db2, "--duration", "0.5")
        holder = subprocess.Popen(["sleep", "60"])
        try:
            boot = open("/proc/sys/kernel/random/boot_id").read().strip()
            now = int(time.time() * 1000)
            con = sqlite3.connect(db2)
            con.execute("INSERT OR REPLACE INTO writer_claims (key, token, pid, host, started_ms,"
                        " heartbeat_ms, boot) VALUES (?, 'app', ?, ?, ?, ?, ?)",
                        (key, holder.pid, socket.gethostname(), now, now, boot))
            con.commit()
            con.close()
            start = time.monotonic()
            status, out, err = run("log", "--port", uri, "--db", db2, "--interval", "0.2",
                                   "--duration", "5")
            took = time.monotonic() - start
            tap.ok(status == 4 and f"process {holder.pid}" in err and "already being recorded"
                   in err and took < 4, f"a board the app records: refused (status 4) in "
                   f"{took:.1f} s, naming it", f"{status}\n{err}")
        finally:
            holder.kill()
            holder.wait()
    finally:
        sim.terminate()
        sim.wait(timeout=10)

tap.done()
