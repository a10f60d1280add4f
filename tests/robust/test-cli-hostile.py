#!/usr/bin/python3
"""packwatch-cli against a hostile line (hostile_peer.py): every command
ends in bounded time with the right status and a clear message, `log`
stores nothing it did not read whole, and SIGINT/SIGTERM stop `log` and
`read` within a second while the line floods them. The figures in
docs/robustness.md ("A line that never stops talking") come from this test
(PACKWATCH_HOSTILE_TABLE=1 prints them as a Markdown table).

usage: test-cli-hostile.py PATH-TO-packwatch-cli"""
import concurrent.futures
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_peer import HostilePeer, MODES  # noqa: E402
from taplib import Tap, valgrind_prefix  # noqa: E402

CLI = sys.argv[1]
VALGRIND = bool(os.environ.get("PACKWATCH_VALGRIND"))
SLOW = 10 if VALGRIND else 1
LOG_DURATION = 3
tap = Tap()
tmp = tempfile.TemporaryDirectory(prefix="pw-hostile-")

# Upper bounds in seconds, with margin for a loaded machine. With the default
# timing (first byte 1.5 s, 3 retries, 100 ms gap) read and write fail within
# 4 × (0.1 + 1.5 + 1.0 s drain) ≈ 10.4 s against these modes; log ends at
# --duration (the bound counts process start-up and the final flush too);
# scan probes 3 addresses without retries (3 × 0.6 s).
BOUND = {"read": 16, "write": 16, "log": LOG_DURATION + 2.5, "scan": 6}
COMMANDS = ["read", "write", "log", "scan"]


def expected_status(mode, command):
    if command == "log":
        return 0          # stopped by --duration, everything saved
    if mode == "good-then-noisy" and command in ("read", "scan"):
        return 0          # the first request is answered well
    return 3              # the board could not be reached


def argv_for(command, uri, db):
    return {
        "read": [CLI, "read", "--port", uri],
        "write": [CLI, "write", "--port", uri, "--password", "123456", "device_id=HOSTILE"],
        "log": [CLI, "log", "--port", uri, "--db", db, "--duration", str(LOG_DURATION)],
        "scan": [CLI, "scan", "--port", uri, "--last", "3"],
    }[command]


def samples_in(db):
    if not os.path.exists(db):
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0]


def run_one(mode, command):
    db = os.path.join(tmp.name, f"{mode}-{command}.db")
    with HostilePeer(mode) as peer:
        argv = valgrind_prefix(CLI) + argv_for(command, peer.uri, db)
        start = time.monotonic()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _, err = p.communicate(timeout=3 * BOUND[command] * SLOW)
        except subprocess.TimeoutExpired:
            # A hang (the old behaviour): killed, reported as a failure.
            p.kill()
            _, err = p.communicate()
            err += f"\n(killed after {3 * BOUND[command] * SLOW} s)"
        elapsed = time.monotonic() - start
    return mode, command, elapsed, p.returncode, err, samples_in(db)


def check_run(mode, command, elapsed, status, err, samples):
    name = f"{command} vs {mode}"
    lines = [line for line in err.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    tap.ok(elapsed < BOUND[command] * SLOW,
           f"{name}: ends in {elapsed:.1f} s (bound {BOUND[command] * SLOW} s)", err)
    tap.ok(status == expected_status(mode, command),
           f"{name}: exit status {status}", f"expected {expected_status(mode, command)}\n{err}")
    if command == "log":
        # Only whole replies are samples: the one good reply, or nothing.
        want = 1 if mode == "good-then-noisy" else 0
        tap.ok(samples == want, f"{name}: {samples} samples stored", f"expected {want}\n{err}")
        tap.ok(f"{samples} samples saved" in last, f"{name}: says what it saved", err)
    elif status != 0:
        # A reason a person can act on, not a bare "cancelled".
        tap.ok(last.startswith(f"packwatch-cli {command}: ") and "cancel" not in last.lower()
               and len(last) > 40, f"{name}: a clear message", err)
    return name, elapsed, status


def matrix():
    modes = MODES if not VALGRIND else ["nw-flood", "silent", "reset"]
    results = {}
    # All at once: each run mostly waits, and together they take as long as
    # the slowest instead of the sum (about 3 minutes).
    with concurrent.futures.ThreadPoolExecutor(max_workers=4 if VALGRIND else 64) as pool:
        futures = [pool.submit(run_one, m, c) for m in modes for c in COMMANDS]
        for f in futures:
            mode, command, elapsed, status, err, samples = f.result()
            results[(mode, command)] = (elapsed, status)
            check_run(mode, command, elapsed, status, err, samples)
    if os.environ.get("PACKWATCH_HOSTILE_TABLE"):
        print("| mode | " + " | ".join(COMMANDS) + " |")
        print("|---|" + "---|" * len(COMMANDS))
        for m in modes:
            cells = [f"{results[(m, c)][0]:.1f} s, {results[(m, c)][1]}" for c in COMMANDS]
            print(f"| {m} | " + " | ".join(cells) + " |")


def signal_stops(command, signum):
    """Starts command against an "NW" flood, signals it half a second after
    its first request and measures how long it takes to exit."""
    db = os.path.join(tmp.name, f"signal-{command}-{signum}.db")
    argv = {"read": [CLI, "read", "--port"], "log": [CLI, "log", "--db", db, "--port"]}[command]
    with HostilePeer("nw-flood") as peer:
        p = subprocess.Popen(valgrind_prefix(CLI) + argv + [peer.uri], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        peer.heard.wait(30 * SLOW)
        time.sleep(0.5)
        sent = time.monotonic()
        p.send_signal(signum)
        try:
            out, err = p.communicate(timeout=20 * SLOW)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        took = time.monotonic() - sent
    name = f"{command} against an NW flood, {signal.Signals(signum).name}"
    tap.ok(took < 1.0 * SLOW, f"{name}: exits {took:.2f} s after the signal", err)
    if command == "log":
        word = "interrupted" if signum == signal.SIGINT else "terminated"
        tap.ok(p.returncode == 0 and f"0 samples saved ({word})" in err,
               f"{name}: status 0, nothing saved, says {word}", f"{p.returncode}\n{err}")
        tap.ok(samples_in(db) == 0, f"{name}: nothing stored", err)
    else:
        word = "interrupted (SIGINT)" if signum == signal.SIGINT else "terminated (SIGTERM)"
        tap.ok(p.returncode == 1 and word in err, f"{name}: status 1, says {word}",
               f"{p.returncode}\n{err}")


def password_checked_first():
    """A password the board cannot take is a usage error found before the
    port is opened (`write` used to report it as 'unreachable' after a read)."""
    commands = {
        "write": (["write"], ["device_id=HOSTILE"]),
        "profile": (["profile", "load"], [os.path.join(tmp.name, "none.pwprofile")]),
        "flash": (["flash"], [os.path.join(tmp.name, "none.bin")]),
    }
    for password, what in (("12345678901", "11 characters"), ("", "empty")):
        for command, (words, args) in commands.items():
            with HostilePeer("silent") as peer:
                argv = [CLI] + words + ["--port", peer.uri, "--password", password] + args
                start = time.monotonic()
                p = subprocess.run(valgrind_prefix(CLI) + argv, capture_output=True, text=True,
                                   timeout=30 * SLOW)
                elapsed = time.monotonic() - start
                connections = peer.connections
            name = f"{command} --password ({what})"
            tap.ok(p.returncode == 2, f"{name}: status 2", p.stderr)
            tap.ok("--password" in p.stderr and "1 to 10 characters" in p.stderr,
                   f"{name}: says what is wrong", p.stderr)
            tap.ok(connections == 0 and elapsed < 2 * SLOW, f"{name}: the port is not opened",
                   f"{connections} connections, {elapsed:.1f} s")


password_checked_first()
matrix()
for cmd in ("log", "read"):
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal_stops(cmd, sig)
tmp.cleanup()
tap.done()
