#!/usr/bin/python3
"""Several `packwatch-cli log` processes on one history database, and a
full disk, against packwatch-sim (TCP):

- two loggers creating a new database at the same moment both start
  (ten rounds; the old code failed 7 in 10 with "table devices already
  exists" or "Cannot switch to WAL mode: database is locked");
- a second logger of the same board is refused with exit status 4 naming
  the first one's process and host; after a kill -9 of the first the claim
  is taken over;
- a file size limit (RLIMIT_FSIZE, raised again like freeing space) makes
  every write fail: "not recording" is said once, not every cycle,
  recording resumes by itself, and the final count is what the file holds.

usage: test-log-writers.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from taplib import Tap  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()


def start_sim(device_id):
    # Two boards: the history keys a board by its device id (as the app
    # does), so each has its own.
    state = os.path.join(state_dir.name, f"{device_id}.ini")
    with open(state, "w") as f:
        f.write(f"[parameters]\ndevice_id={device_id}\n")
    sim = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", "--state", state],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = sim.stdout.readline().strip()
    if not line.startswith("tcp://"):
        sim.kill()
        tap.bail(f"packwatch-sim did not start: {line!r} {sim.stderr.read()}")
    return sim, line


def logger(db, uri, *extra, preexec=None):
    return subprocess.Popen([CLI, "log", "--port", uri, "--db", db, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec)


def count(db):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM samples").fetchone()[0]
    finally:
        con.close()


class Lines:
    """Collects a pipe's lines on a thread, so the test can wait for one."""

    def __init__(self, pipe):
        self.lines = []
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for line in pipe:
            self.lines.append(line)

    def wait_for(self, text, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.02)
        return False

    def text(self):
        return "".join(self.lines)


state_dir = tempfile.TemporaryDirectory(prefix="log-writers-state-")
sims = [start_sim("PWSIM001"), start_sim("PWSIM002")]
try:
    with tempfile.TemporaryDirectory(prefix="log-writers-") as tmp:
        # 1. Creation at the same moment.
        failures = []
        for round_ in range(10):
            db = os.path.join(tmp, f"race-{round_}.db")
            procs = [logger(db, uri, "--duration", "0.6", "--interval", "0.2") for _, uri in sims]
            for p in procs:
                out, err = p.communicate(timeout=30)
                if p.returncode != 0:
                    failures.append(err.strip())
        tap.ok(not failures, "two loggers creating one database at once: 20 of 20 started",
               failures)

        # 2. One writer per board.
        db = os.path.join(tmp, "claims.db")
        uri = sims[0][1]
        first = logger(db, uri, "--interval", "0.2")
        first_err = Lines(first.stderr)
        started = first_err.wait_for("Ctrl+C stops", 15)
        second = logger(db, uri, "--interval", "0.2", "--duration", "2")
        out, err = second.communicate(timeout=30)
        host = socket.gethostname()
        tap.ok(started and second.returncode == 4 and f"process {first.pid} on {host}" in err
               and "already being recorded" in err,
               "a second logger of the same board: refused (status 4) naming the first", err)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        third = logger(db, uri, "--interval", "0.2", "--duration", "1")
        out, err = third.communicate(timeout=30)
        tap.ok(third.returncode == 0 and "samples saved" in err,
               "after a kill -9 of the first, its claim is taken over", err)

        # 3. A small volume: the file size limit stands in for a full disk.
        db = os.path.join(tmp, "small.db")

        def ignore_xfsz():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

        proc = logger(db, uri, "--interval", "0.2", preexec=ignore_xfsz)
        err = Lines(proc.stderr)
        started = err.wait_for("Ctrl+C stops", 15)
        time.sleep(1)
        # Full: not even one page more fits in any file (about 15 cycles).
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        full = err.wait_for("not recording", 10)
        time.sleep(3)
        # Space is freed.
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        back = err.wait_for("recording again", 10)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        err.thread.join(timeout=10)
        text = err.text()
        lines = text.splitlines()
        n_down = sum("log: not recording" in line for line in lines)
        n_up = sum("log: recording again" in line for line in lines)
        summary = [line for line in lines if "samples saved" in line]
        saved = int(summary[-1].split()[2]) if summary else -1
        lost = int(summary[-1].split(", ")[1].split()[0]) if summary and ", " in summary[-1] else 0
        stored = count(db)
        tap.ok(started and full and back and n_down == 1 and n_up == 1,
               "disk full: reported once, 'recording again' once", text)
        tap.ok(lost >= 5, f"{lost} cycles lost in that one outage", text)
        tap.ok(proc.returncode == 0, "an outage that is over does not fail the run", text)
        tap.ok(saved == stored,
               f"the final count is what the file holds ({saved} said, {stored} stored)", text)
        con = sqlite3.connect(db)
        tap.ok(con.execute("PRAGMA integrity_check").fetchone()[0] == "ok",
               "the database is whole after the outage")
        con.close()
finally:
    for sim, _ in sims:
        sim.terminate()
        sim.wait(timeout=10)
    state_dir.cleanup()

tap.done()
