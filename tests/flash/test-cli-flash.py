#!/usr/bin/python3
"""packwatch-cli flash end to end.

Against the in-process simulator (--port sim://, 9600 baud wire timing): a
verified update, and every refusal with its exit status and step. Against
packwatch-sim on a pseudo-terminal (one board that outlives each CLI run): an
update interrupted with Ctrl-C leaves the board in its bootloader, a
--bootloader run finishes it, and `read` shows the new version.

usage: test-cli-flash.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zlib

CLI, SIM = sys.argv[1], sys.argv[2]
workdir = tempfile.mkdtemp(prefix="packwatch-flash-cli-")
results = []


def check(name, ok, diag=""):
    results.append(ok)
    print(f"{'ok' if ok else 'not ok'} {len(results)} {name}")
    if not ok and diag:
        for line in str(diag).splitlines():
            print(f"# {line}")
    sys.stdout.flush()


APP_BASE = 0x08004000


def vectors(size):
    """A Cortex-M vector table as docs/firmware-update.md describes it:
    stack pointer in SRAM, Thumb reset handler inside the flashed image."""
    return struct.pack("<II", 0x20005000, (APP_BASE + min(size - 2, 0x1C0)) | 1)


def image(name, size, version):
    path = os.path.join(workdir, name)
    data = bytearray((i * 29 + i // 211) & 0xFF for i in range(size))
    if version is not None:
        marker = b"PWFW-VERSION=" + version.encode() + b"\0"
        data[300:300 + len(marker)] = marker
    if size >= 8:
        data[0:8] = vectors(size)
    with open(path, "wb") as f:
        f.write(data)
    return path


def cli(*args, timeout=60):
    return subprocess.run([CLI, "flash"] + list(args), capture_output=True, text=True,
                          timeout=timeout)


def sim_cases():
    fw = image("fw-t1.bin", 2 * 1024 + 5, "CLI-T1")
    r = cli("--port", "sim://", "--password", "123456", fw)
    check("update on sim:// exits 0 and reports the new version",
          r.returncode == 0 and "version CLI-T1" in r.stdout and "step 7/8" in r.stderr,
          f"{r.returncode}\n{r.stdout}\n{r.stderr}")

    empty = image("empty.bin", 0, None)
    r = cli("--port", "sim://", "--password", "123456", empty)
    check("empty file: exit 2 at step 1, nothing sent",
          r.returncode == 2 and "step 1 (check file)" in r.stderr and "empty" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    big = image("big.bin", 5000, None)
    r = cli("--port", "sim://", "--password", "123456", "--max-size", "4096", big)
    check("over the flash budget: exit 2 at step 1",
          r.returncode == 2 and "step 1 (check file)" in r.stderr and "4096" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    r = cli("--port", "sim://", fw)
    check("no password: exit 2, says --password and --bootloader",
          r.returncode == 2 and "--password" in r.stderr and "--bootloader" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    r = cli("--port", "sim://", "--password", "wrong", fw)
    check("wrong password: exit 1 at step 2, nothing changed",
          r.returncode == 1 and "step 2 (enter bootloader)" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    r = cli("--port", "sim://", "--bootloader", fw)
    check("--bootloader on a board running its firmware: exit 3 at step 4",
          r.returncode == 3 and "step 4 (send 0x20)" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    r = cli("--port", "sim://", "--password", "123456")
    check("no FILE: exit 2", r.returncode == 2 and "FILE" in r.stderr,
          f"{r.returncode}\n{r.stderr}")

    image_check_cases(fw)


def write_raw(name, data):
    path = os.path.join(workdir, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def audit_rows(db):
    r = subprocess.run([CLI, "audit", "--db", db, "--json"], capture_output=True, text=True,
                       timeout=60)
    return json.loads(r.stdout) if r.returncode == 0 else []


def image_check_cases(fw):
    # (sim:// is a fresh board per run: each starts at the same version.)
    # A PNG renamed .bin, random bytes, an image linked for another address:
    # refused at step 1 with the reason, before the port is opened.
    png = write_raw("photo.bin", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    rnd = write_raw("random.bin", bytes((i * 131 + 7) & 0xFF for i in range(3000)))
    other = bytearray(open(fw, "rb").read())
    other[0:8] = struct.pack("<II", 0x20005000, 0x08000101)
    other = write_raw("bootloader-linked.bin", bytes(other))
    for path, words in ((png, "the first word 0x474E5089 is not a stack pointer in SRAM"),
                        (rnd, "is not a stack pointer in SRAM"),
                        (other, "the reset handler 0x08000101 lies outside the image")):
        r = cli("--port", "sim://", "--password", "123456", path)
        check(f"{os.path.basename(path)}: exit 2 at step 1, not a firmware image, nothing sent",
              r.returncode == 2 and "step 1 (check file)" in r.stderr
              and "not a firmware image" in r.stderr and words in r.stderr
              and "--force" in r.stderr and "step 2" not in r.stderr and r.stdout == "",
              f"{r.returncode}\n{r.stdout}\n{r.stderr}")

    db = os.path.join(workdir, "audit.db")
    r = cli("--port", "sim://", "--password", "123456", "--db", db, fw)
    rows = audit_rows(db)
    crc = f"{zlib.crc32(open(fw, 'rb').read()):08X}"
    ok_row = rows[-1] if rows else {}
    check("update with --db: one audit row with file, size, CRC-32, old and new version",
          r.returncode == 0 and len(rows) == 1 and ok_row.get("field") == "firmware"
          and ok_row.get("old") not in (None, "", "unknown") and ok_row.get("new") == "CLI-T1"
          and ok_row.get("result", "").startswith("ok: fw-t1.bin, 2053 bytes, CRC-32 " + crc)
          and "FORCED" not in ok_row.get("result", ""),
          f"{r.returncode}\n{r.stderr}\n{rows}")

    r = cli("--port", "sim://", "--password", "123456", "--force", "--db", db, png)
    rows = audit_rows(db)
    forced = rows[-1] if rows else {}
    check("--force flashes a PNG anyway; the board does not start it; the audit says FORCED",
          r.returncode != 0 and "--force" in r.stderr and "step 7/8" in r.stderr
          and len(rows) == 2 and forced.get("old") == ok_row.get("old")
          and forced.get("result", "").startswith("failed at step 8: photo.bin")
          and "FORCED past the image check: not a firmware image" in forced.get("result", ""),
          f"{r.returncode}\n{r.stderr}\n{rows}")


def pty_rescue():
    link = os.path.join(workdir, "ttyBMS")
    state = os.path.join(workdir, "sim.state")
    log = open(os.path.join(workdir, "sim.log"), "w+")
    sim = subprocess.Popen([SIM, "--pty", link, "--baud", "9600", "--state", state],
                           stdout=subprocess.PIPE, stderr=log, text=True,
                           start_new_session=True)
    try:
        ready = sim.stdout.readline().strip() == link
        check("packwatch-sim serves a pty", ready)
        if not ready:
            return
        fw = image("fw-t2.bin", 6 * 1024, "CLI-T2")
        run = subprocess.Popen([CLI, "flash", "--port", link, "--password", "123456", fw],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        for line in run.stderr:
            seen.append(line)
            if " %  " in line and not line.strip().startswith("0 %"):
                run.send_signal(signal.SIGINT)
                break
        rest = run.communicate(timeout=30)
        err = "".join(seen) + rest[1]
        check("Ctrl-C during the transfer: exit 1 naming step 7",
              run.returncode == 1 and "step 7 (send image)" in err and "--bootloader" in err,
              f"{run.returncode}\n{err}")

        r = cli("--port", link, "--bootloader", fw)
        check("--bootloader finishes the interrupted update",
              r.returncode == 0 and "version CLI-T2" in r.stdout,
              f"{r.returncode}\n{r.stdout}\n{r.stderr}")

        r = subprocess.run([CLI, "read", "--port", link, "--json"], capture_output=True,
                           text=True, timeout=30)
        version = None
        try:
            version = json.loads(r.stdout).get("software_version")
        except ValueError:
            pass
        check("read afterwards shows the new version", version == "CLI-T2",
              f"{r.returncode} {version!r}\n{r.stdout[:300]}\n{r.stderr}")
    finally:
        if sim.poll() is None:
            os.killpg(sim.pid, signal.SIGTERM)
            sim.wait(timeout=10)


try:
    sim_cases()
    pty_rescue()
finally:
    shutil.rmtree(workdir, ignore_errors=True)
print(f"1..{len(results)}")
sys.exit(0 if all(results) else 1)
