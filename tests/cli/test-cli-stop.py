#!/usr/bin/python3
"""SIGINT and SIGTERM stop `profile load` and `capture` within a second
through the shared stop (cli_stop_*), against packwatch-sim (TCP) gone
silent (--fault-silent): a read waiting for a board that never answers is
cancelled, not waited out (the old `profile load` took no signal and waited
all its timeouts; `capture` finished the read in flight first).

usage: test-cli-stop.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()


def start_sim(*extra):
    sim = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", *extra],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = sim.stdout.readline().strip()
    if not line.startswith("tcp://"):
        sim.kill()
        tap.bail(f"packwatch-sim did not start: {line!r}")
    return sim, line


def stops(name, argv, signum, want_status, want_text):
    """Signals argv one second after its start (its first request is then
    waiting for the silent board) and measures how long it takes to exit."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    sent = time.monotonic()
    p.send_signal(signum)
    try:
        out, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    took = time.monotonic() - sent
    what = f"{name}, {signal.Signals(signum).name}"
    tap.ok(took < 1.0, f"{what}: exits {took:.2f} s after the signal", err)
    tap.ok(p.returncode == want_status and want_text in err,
           f"{what}: status {want_status}, says {want_text!r}", f"{p.returncode}\n{err}")


with tempfile.TemporaryDirectory(prefix="cli-stop-") as tmp:
    profile = os.path.join(tmp, "board.pwprofile")
    good, uri = start_sim()
    try:
        status = subprocess.run([CLI, "profile", "save", "--port", uri, profile],
                                capture_output=True, text=True, timeout=30).returncode
    finally:
        good.terminate()
        good.wait(timeout=10)
    if status != 0:
        tap.bail("profile save against packwatch-sim failed")

    silent, uri = start_sim("--fault-silent")
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            word = "interrupted (SIGINT)" if signum == signal.SIGINT else "terminated (SIGTERM)"
            stops("profile load against a silent board",
                  [CLI, "profile", "load", "--port", uri, "--password", "123456", profile],
                  signum, 1, word)
            out = os.path.join(tmp, f"capture-{signum}.hex")
            stops("capture against a silent board",
                  [CLI, "capture", "--port", uri, "--out", out, "--count", "3"],
                  signum, 0, "0 replies saved")
            tap.ok(not os.path.exists(out), "capture stopped before a reply: no file", out)
    finally:
        silent.terminate()
        silent.wait(timeout=10)

tap.done()
