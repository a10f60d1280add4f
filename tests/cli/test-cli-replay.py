#!/usr/bin/python3
"""Replay and capture, for support cases: packwatch-sim --replay serves the
vendor's 14-cell reply over a pty and TCP and `read --json` gives the numbers
`decode` finds in the file; writes to a replay are refused; bad recordings
are refused at start naming the file and line; capture → replay round trip;
capture stops on SIGINT with the frames so far; capture of a dead port
leaves no file.

usage: test-cli-replay.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from taplib import Tap, run

CLI, SIM = sys.argv[1], sys.argv[2]
ROOT = os.environ.get("PACKWATCH_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
VENDOR = os.path.join(ROOT, "tests", "data", "nw-readall-14s.hex")
REQUEST = os.path.join(ROOT, "tests", "data", "nw-request-readall.hex")
BAUD = "115200"
FRAME_KEYS = {"ok", "line", "command", "source", "transport", "terminal", "record"}
tap = Tap()
workdir = tempfile.mkdtemp(prefix="packwatch-replay-test-")
children = []
signal.signal(signal.SIGTERM, lambda *_: sys.exit("terminated"))


class Sim:
    """A packwatch-sim serving a pty or TCP; port is what --port takes."""

    def __init__(self, endpoint, *extra):
        name = f"sim{len(children)}"
        self.log = open(os.path.join(workdir, name + ".log"), "w+")
        argv = [SIM, "--baud", BAUD, "--state", os.path.join(workdir, name + ".state")] + list(extra)
        argv += ["--pty", os.path.join(workdir, name + ".pty")] if endpoint == "pty" else ["--tcp", "0"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log, text=True,
                                     start_new_session=True)
        children.append(self)
        self.port = self.proc.stdout.readline().strip()
        self.ready = self.port != ""
        if not self.ready:
            self.log.seek(0)
            tap.diag(f"simulator did not start: {' '.join(argv)}\n{self.log.read()}")

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def cli(*args, timeout=30):
    return run([CLI] + list(args), timeout=timeout)


def decode(path):
    """The snapshots decode finds in a hex file, frame keys left out."""
    status, out, err = cli("decode", path)
    frames = [json.loads(line) for line in out.splitlines() if line.strip()]
    return status, [{k: v for k, v in f.items() if k not in FRAME_KEYS} for f in frames], err


def read_json(port):
    status, out, err = cli("read", "--port", port, "--baud", BAUD, "--json")
    try:
        return status, json.loads(out), err
    except ValueError:
        return status, None, err + "\nstdout: " + out


def differences(expected, got):
    """Keys of expected whose value read gives differently (or not at all)."""
    return {k: (v, got.get(k, "<missing>")) for k, v in expected.items() if got.get(k) != v}


try:
    status, vendor, err = decode(VENDOR)
    if not tap.ok(status == 0 and len(vendor) == 1 and vendor[0].get("cell_count") == 14,
                  "decode of the vendor's 14-cell reply", err):
        tap.bail("cannot decode tests/data/nw-readall-14s.hex")
    expected = vendor[0]

    for endpoint in ("pty", "tcp"):
        sim = Sim(endpoint, "--replay", VENDOR)
        if not tap.ok(sim.ready, f"{endpoint}: sim --replay serves ({sim.port})"):
            continue
        for attempt in (1, 2):  # one recorded reply: served again and again
            status, got, err = read_json(sim.port)
            diff = differences(expected, got or {})
            tap.ok(status == 0 and got is not None and not diff,
                   f"{endpoint}: read --json #{attempt} gives every number decode gives "
                   f"({len(expected)} keys)", f"{status} {err} {diff}")
        status, out, err = cli("write", "--port", sim.port, "--baud", BAUD, "--password",
                               "123456", "cell_ovp_mv=4100")
        _, after, _ = read_json(sim.port)
        tap.ok(status == 1 and "refused the password" in err
               and (after or {}).get("cell_ovp_mv") == expected["cell_ovp_mv"],
               f"{endpoint}: a write to a replay is refused as on a locked board, value unchanged",
               f"{status}\n{out}{err}")
        sim.stop()

    # Refused at start, naming the file (and the line where one is at fault).
    bad = os.path.join(workdir, "bad.hex")
    with open(bad, "w") as f:
        f.write("# a recording\n" + open(VENDOR).read().strip() + "\n4E 57 ZZ\n")
    empty = os.path.join(workdir, "empty.hex")
    with open(empty, "w") as f:
        f.write("# nothing recorded\n\n")
    missing = os.path.join(workdir, "missing.hex")
    for path, what, needle in ((bad, "a line of bad hex", f"{bad}:3: bad hex at column 7"),
                               (empty, "no frame", f"{empty}: no frame in its 2 lines"),
                               (REQUEST, "only a request", "none of its 1 frames is a read-all reply"),
                               (missing, "no file", missing)):
        p = subprocess.run([SIM, "--tcp", "0", "--replay", path], capture_output=True, text=True,
                           timeout=10)
        tap.ok(p.returncode == 2 and needle in p.stderr and p.stdout == "",
               f"--replay with {what}: exit 2 before serving, says \"{needle}\"",
               f"{p.returncode} {p.stdout} {p.stderr}")

    # capture → replay: the same numbers, reply by reply, looping.
    live = Sim("tcp", "--no-wire-timing", "--cycle", "--time-scale", "600")
    recording = os.path.join(workdir, "capture.hex")
    status, out, err = cli("capture", "--port", live.port, "--baud", BAUD, "--out", recording,
                           "--count", "3", "--interval", "0.3")
    live.stop()
    lines = open(recording).read().splitlines() if os.path.exists(recording) else []
    tap.ok(status == 0 and len(lines) == 4 and lines[0].startswith("# packwatch-cli capture:")
           and "device id PWSIM001" in lines[0] and "software PWSIM_S1.0.0" in lines[0]
           and "address 1" in lines[0] and live.port in lines[0] and "Packwatch " in lines[0],
           "capture --count 3: a # line naming the board, port and version, then 3 frames",
           f"{status} {err}\n" + "\n".join(l[:120] for l in lines))
    status, captured, err = decode(recording)
    tap.ok(status == 0 and len(captured) == 3
           and len({json.dumps(c, sort_keys=True) for c in captured}) > 1,
           "decode reads the capture: 3 frames, the pack moved between them", err)
    replay = Sim("pty", "--replay", recording)
    if tap.ok(replay.ready, "replay of the capture serves"):
        for i in range(4):
            status, got, err = read_json(replay.port)
            diff = differences(captured[i % 3], got or {})
            tap.ok(status == 0 and not diff,
                   f"read #{i + 1} of the replay gives recorded reply {i % 3 + 1}", f"{err} {diff}")
    replay.stop()

    # Ctrl+C: the frames so far are in FILE, nothing else is left behind.
    live = Sim("tcp", "--no-wire-timing")
    interrupted = os.path.join(workdir, "interrupted.hex")
    proc = subprocess.Popen([CLI, "capture", "--port", live.port, "--baud", BAUD, "--out",
                             interrupted, "--count", "1000", "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    took = time.monotonic() - started
    live.stop()
    status, frames, derr = decode(interrupted) if os.path.exists(interrupted) else (-1, [], "")
    left = sorted(os.listdir(workdir))
    tap.ok(proc.returncode == 0 and status == 0 and 2 <= len(frames) < 1000 and took < 3
           and f"{len(frames)} replies saved" in err
           and not [n for n in left if n.startswith("interrupted.hex.")],
           f"SIGINT stops capture in {took:.2f} s with its {len(frames)} frames intact, "
           "no temporary file left", f"{proc.returncode} {err} {derr} {left}")

    # A port with no board: exit 3, no file (an earlier capture is not replaced).
    status, out, err = cli("capture", "--port", os.path.join(workdir, "no-such-port"),
                           "--out", recording)
    tap.ok(status == 3 and "no-such-port" in err and len(open(recording).read().splitlines()) == 4,
           "capture of an absent port: exit 3, the earlier file untouched", f"{status} {err}")
    status, out, err = cli("capture", "--port", "sim://")
    tap.ok(status == 2 and "--out" in err, "capture without --out: exit 2, says --out", err)
finally:
    for child in children:
        child.stop()
    shutil.rmtree(workdir, ignore_errors=True)

tap.done()
