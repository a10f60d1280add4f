#!/usr/bin/python3
"""packwatch-cli log against packwatch-sim (TCP), killed with SIGKILL at
moments the test does not choose: the database must pass
PRAGMA integrity_check and hold every sample the logger reported, less at
most the cycle in flight. Then SIGTERM: the cycle finishes, exit 0,
nothing lost.

usage: test-log-kill.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from taplib import Tap  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
INTERVAL = 0.2
tap = Tap()


def start_sim():
    sim = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", "--current", "-20"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = sim.stdout.readline().strip()
    if not line.startswith("tcp://"):
        sim.kill()
        tap.bail(f"packwatch-sim did not start: {line!r} {sim.stderr.read()}")
    return sim, line


def db_state(path):
    con = sqlite3.connect(path)
    try:
        check = con.execute("PRAGMA integrity_check").fetchone()[0]
        count = con.execute("SELECT count(*) FROM samples").fetchone()[0]
        rollup = con.execute("SELECT coalesce(sum(n), 0) FROM rollup_minute").fetchone()[0]
        # The minute of the latest sample is written when the next minute
        # starts (or on a clean exit); a kill -9 may leave it behind, and
        # the next writer to open the file rebuilds it. Every minute before
        # it must agree.
        last = con.execute("SELECT coalesce(max(t_ms) / 60000 * 60000, 0) FROM samples").fetchone()[0]
        before = con.execute("SELECT count(*) FROM samples WHERE t_ms < ?", (last,)).fetchone()[0]
        rollup_before = con.execute("SELECT coalesce(sum(n), 0) FROM rollup_minute WHERE t_ms < ?",
                                    (last,)).fetchone()[0]
    finally:
        con.close()
    return check, count, rollup, (rollup_before, before)


def run_logger(db, uri, how, seconds, extra=()):
    """Logs for about `seconds`, then stops the logger with `how`; returns
    (samples reported on stdout, cycles elapsed by the clock, process)."""
    proc = subprocess.Popen([CLI, "log", "--port", uri, "--db", db, "--interval", str(INTERVAL),
                             "--verbose", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    first = proc.stdout.readline()
    t_first = time.monotonic()
    if not first:
        return 0, 0, proc
    reported = 1
    deadline = t_first + seconds
    while time.monotonic() < deadline and proc.stdout.readline():
        reported += 1
    proc.send_signal(how)
    t_stop = time.monotonic()
    rest = proc.stdout.read()
    reported += len(rest.splitlines())
    proc.wait(timeout=30)
    elapsed_cycles = int((t_stop - t_first) / INTERVAL) + 1
    return reported, elapsed_cycles, proc


with tempfile.TemporaryDirectory(prefix="log-kill-") as tmp:
    db = os.path.join(tmp, "history.db")
    sim, uri = start_sim()
    try:
        total = 0
        rng = random.Random()
        for round_ in range(3):
            seconds = 1.0 + rng.random() * 1.5
            # The first round syncs every commit (--fsync), the others not.
            reported, elapsed, proc = run_logger(db, uri, signal.SIGKILL, seconds,
                                                 ["--fsync"] if round_ == 0 else [])
            total += reported
            check, count, rollup, (rollup_before, before) = db_state(db)
            tap.ok(proc.returncode == -signal.SIGKILL, f"kill -9 #{round_ + 1} after {seconds:.2f} s",
                   proc.returncode)
            tap.ok(check == "ok", f"kill -9 #{round_ + 1}: integrity_check ok", check)
            tap.ok(total - 1 <= count <= total,
                   f"kill -9 #{round_ + 1}: {count} samples stored, {total} reported (at most the "
                   f"cycle in flight lost)", f"stored {count}, reported {total}")
            # The clock bounds the cycles from above; on a loaded machine a
            # cycle may take longer than the interval (the logger then backs
            # off), so below it only has to have really run.
            tap.ok(elapsed // 2 <= reported <= elapsed + 1,
                   f"kill -9 #{round_ + 1}: {reported} cycles in {elapsed} intervals",
                   f"reported {reported}, elapsed {elapsed}")
            tap.ok(rollup_before == before and rollup <= count,
                   f"kill -9 #{round_ + 1}: rollups agree with the samples before the last minute",
                   f"rollup {rollup_before} of {rollup}, samples {before} of {count}")
            total = count

        reported, elapsed, proc = run_logger(db, uri, signal.SIGTERM, 1.0)
        err = proc.stderr.read()
        check, count, rollup, _ = db_state(db)
        tap.ok(proc.returncode == 0 and "samples saved" in err, "SIGTERM: clean exit 0", err)
        # The logger rebuilt what the kills left behind when it opened the
        # file, and wrote its own last minute when it stopped.
        tap.ok(rollup == count, "SIGTERM: rollups agree with every sample",
               f"rollup {rollup}, samples {count}")
        tap.ok(check == "ok" and count == total + reported,
               f"SIGTERM: all {reported} cycles saved", f"stored {count}, expected {total + reported}")
        # The line goes away (SIGUSR1 unplugs the simulated gateway) and
        # comes back: logging resumes by itself.
        proc = subprocess.Popen([CLI, "log", "--port", uri, "--db", db, "--interval",
                                 str(INTERVAL), "--duration", "4"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        sim.send_signal(signal.SIGUSR1)
        time.sleep(1.2)
        sim.send_signal(signal.SIGUSR1)
        t_back = time.time()
        out, err = proc.communicate(timeout=30)
        con = sqlite3.connect(db)
        after = con.execute("SELECT count(*) FROM samples WHERE t_ms > ?",
                            (int(t_back * 1000) + 300,)).fetchone()[0]
        con.close()
        tap.ok(proc.returncode == 0 and "no sample" in err and "answers again" in err,
               "unplugged and back: reported once, then resumed", err)
        tap.ok(after >= 3, f"{after} samples after the line came back", err)
    finally:
        sim.terminate()
        sim.wait(timeout=10)

tap.done()
