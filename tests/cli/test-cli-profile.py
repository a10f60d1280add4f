#!/usr/bin/python3
"""packwatch-cli profile save/load and scan against packwatch-sim over TCP:
a saved profile loads back unchanged; an edited one shows old → new in a dry
run and changes nothing, then writes and reads back; a damaged profile and a
rule-breaking one are refused with their line before the port is opened; a
wrong password writes nothing; scan finds the board at its address only; a
board refusing the first write: the rest is reported "not sent" once.

usage: test-cli-profile.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import socket
import tempfile
import threading

from taplib import Tap, run

CLI, SIM = sys.argv[1], sys.argv[2]
tap = Tap()
workdir = tempfile.mkdtemp(prefix="packwatch-profile-test-")


def start_sim(address):
    state = os.path.join(workdir, f"sim{address}.state")
    log = open(os.path.join(workdir, f"sim{address}.log"), "w+")
    proc = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", "--address", str(address),
                             "--state", state], stdout=subprocess.PIPE, stderr=log, text=True,
                            start_new_session=True)
    port = proc.stdout.readline().strip()
    if not port.startswith("tcp://"):
        log.seek(0)
        tap.bail(f"simulator did not start: {port} {log.read()}")
    return proc, port


def nw_frame(command, info):
    """A reply frame from a board (source 0, transport 1, terminal and record 0)."""
    body = bytes([0, 0, 0, 0, command, 0, 1]) + bytes(info) + bytes(4) + b"\x68"
    head = b"NW" + (len(body) + 2 + 4).to_bytes(2, "big")
    return head + body + b"\0\0" + (sum(head + body) & 0xFFFF).to_bytes(2, "big")


def refusing_board():
    """A TCP board answering read all with the vendor's 14-cell reply,
    accepting any password and refusing every write as out of range (2).
    Returns its tcp:// port."""
    root = os.environ.get("PACKWATCH_SOURCE_ROOT", ".")
    vendor = bytes.fromhex(open(os.path.join(root, "tests", "data", "nw-readall-14s.hex")).read())
    readall_info = vendor[11:-9]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve():
        conn, _ = server.accept()
        buf = b""
        while True:
            data = conn.recv(4096)
            if not data:
                return
            buf += data
            while len(buf) >= 4:
                start = buf.find(b"NW")
                if start < 0:
                    buf = b""
                    break
                buf = buf[start:]
                size = int.from_bytes(buf[2:4], "big") + 2
                if len(buf) < size:
                    break
                request, buf = buf[:size], buf[size:]
                command, info = request[8], request[11:size - 9]
                if command in (3, 6):
                    conn.sendall(nw_frame(command, readall_info))
                elif command == 5:
                    conn.sendall(nw_frame(5, [info[0], 0]))
                elif command == 2:
                    conn.sendall(nw_frame(2, [info[0], 2]))

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{server.getsockname()[1]}"


def read_json(port, address=3):
    status, out, err = run([CLI, "read", "--port", port, "--address", str(address), "--json"])
    return json.loads(out) if status == 0 else {}


for action in ("save", "load"):
    status, out, err = run([CLI, "profile", action, "--help"])
    tap.ok(status == 0 and f"packwatch-cli profile {action} [OPTION" in out,
           f"profile {action} --help names the command in full", out[:200])

proc, PORT = start_sim(3)
try:
    profile = os.path.join(workdir, "board.profile")
    status, out, err = run([CLI, "profile", "save", "--port", PORT, "--address", "3", profile])
    tap.ok(status == 0 and "Saved" in out, "profile save exits 0", err)
    text = open(profile).read() if os.path.exists(profile) else ""
    tap.ok(text.startswith("# Packwatch parameter profile") and "\n[Packwatch Profile]\nVersion=1\n"
           in text and "\ncell_ovp_mv=" in text, "the profile has its header and catalogue keys",
           text[:400])
    tap.ok("parameter_password" not in text and "device_id=" not in text,
           "per-board fields are not saved")

    status, out, err = run([CLI, "profile", "load", "--port", PORT, "--address", "3",
                            "--password", "123456", profile])
    tap.ok(status == 0 and "nothing to write" in out, "loading the saved profile changes nothing",
           out + err)

    before = read_json(PORT)
    edited = re.sub(r"\ncell_ovp_mv=\d+", "\ncell_ovp_mv=3600", text)
    edited = re.sub(r"\nbalance_start_mv=\d+", "\nbalance_start_mv=3350", edited)
    with open(profile, "w") as f:
        f.write(edited)
    status, out, err = run([CLI, "profile", "load", "--port", PORT, "--address", "3",
                            "--dry-run", profile])
    tap.ok(status == 0 and "cell_ovp_mv (Charge protection (level 1)): 3650 mV → 3600 mV" in out
           and "Dry run: 2 changes, nothing was sent" in out,
           "the dry run prints the change set old → new", out + err)
    tap.ok(read_json(PORT).get("cell_ovp_mv") == before.get("cell_ovp_mv"),
           "the dry run sent nothing")

    status, out, err = run([CLI, "profile", "load", "--port", PORT, "--address", "3",
                            "--password", "000000", profile])
    tap.ok(status == 1 and "not sent" in out, "a wrong password writes nothing", out + err)
    tap.ok(read_json(PORT).get("cell_ovp_mv") == before.get("cell_ovp_mv"),
           "the board still has the old value")

    db = os.path.join(workdir, "history.db")
    status, out, err = run([CLI, "profile", "load", "--port", PORT, "--address", "3",
                            "--password", "123456", "--db", db, profile])
    after = read_json(PORT)
    tap.ok(status == 0 and "cell_ovp_mv: 3650 mV → 3600 mV: ok" in out,
           "load writes each field and reports it", out + err)
    tap.ok(after.get("cell_ovp_mv") == 3600 and after.get("balance_start_mv") == 3350,
           "the board reads back the profile's values", after)
    status, out, err = run([CLI, "audit", "--db", db, "--json"])
    rows = json.loads(out) if status == 0 else []
    tap.ok([(r["field"], r["old"], r["new"], r["result"]) for r in rows]
           == [("unlock", "", "", "ok"), ("cell_ovp_mv", "3650 mV", "3600 mV", "ok"),
               ("balance_start_mv", "3400 mV", "3350 mV", "ok")],
           "--db keeps every write attempt in the audit log", out + err)

    lines = edited.split("\n")
    idx = next(i for i, l in enumerate(lines) if l.startswith("cell_ovp_recovery_mv="))
    lines[idx] = "cell_ovp_recovery_mv=3700"
    with open(profile, "w") as f:
        f.write("\n".join(lines))
    status, out, err = run([CLI, "profile", "load", "--port", "/nonexistent/tty", "--password",
                            "123456", profile])
    tap.ok(status == 2 and f"board.profile:{idx + 1}: Charge recovery 3700 mV must be below"
           in err and "nothing was sent" in err,
           "a rule broken inside the profile is refused with its line, before the port", err)

    lines[idx] = "cell_ovp_recovery_mv=3500"
    lines.insert(idx, "this line is damaged")
    with open(profile, "w") as f:
        f.write("\n".join(lines))
    status, out, err = run([CLI, "profile", "load", "--port", PORT, "--password", "123456",
                            profile])
    tap.ok(status == 2 and f"board.profile:{idx + 1}:" in err,
           "a damaged profile is refused with its line", err)

    status, out, err = run([CLI, "profile", "load", "--port", PORT, profile])
    tap.ok(status == 2 and "--password is required" in err, "load without a password is refused",
           err)

    status, out, err = run([CLI, "scan", "--port", PORT, "--first", "1", "--last", "4", "--json"])
    boards = json.loads(out) if status == 0 else []
    tap.ok(status == 0 and [b["address"] for b in boards] == [3],
           "scan finds the board at address 3 only", out + err)
    status, out, err = run([CLI, "scan", "--port", PORT, "--first", "5", "--last", "6"])
    tap.ok(status == 3 and "no board answered" in err, "an empty range exits 3", out + err)

    # The first write refused: it failed, the second was not sent, said once
    # (issue 11 §8: "not sent: not sent:").
    two = os.path.join(workdir, "two.profile")
    with open(two, "w") as f:
        f.write("[Packwatch Profile]\nVersion=1\n[Parameters]\n"
                "cell_ovp_delay_s=6\ncell_uvp_delay_s=6\n")
    status, out, err = run([CLI, "profile", "load", "--port", refusing_board(), "--password",
                            "123456", two])
    tap.ok(status == 1 and "cell_ovp_delay_s: 5 s → 6 s: failed: " in out
           and "cell_uvp_delay_s: 5 s → 6 s: not sent: writing cell_ovp_delay_s failed before it\n"
           in out and "not sent: not sent" not in out,
           "a refused write: the next field says \"not sent\" once, with why", out + err)
finally:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)
tap.done()
