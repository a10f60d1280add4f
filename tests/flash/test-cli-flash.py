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
import subprocess
import sys
import tempfile
import time

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


def image(name, size, version):
    path = os.path.join(workdir, name)
    data = bytearray((i * 29 + i // 211) & 0xFF for i in range(size))
    if version is not None:
        marker = b"PWFW-VERSION=" + version.encode() + b"\0"
        data[300:300 + len(marker)] = marker
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
