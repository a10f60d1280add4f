#!/usr/bin/python3
"""packwatch-cli export / alarms / audit on a history database.

The database is made here as a schema-1 file (what the first Packwatch
wrote), so every command also exercises the migration on open.

usage: test-cli-history.py PATH-TO-packwatch-cli"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from taplib import Tap, run  # noqa: E402

CLI = sys.argv[1]
CHECK_XLSX = os.path.join(HERE, "check-xlsx.py")
T0_MS = 1767225600000  # 2026-01-01 00:00 UTC
OLD = b"an earlier export\n"
tap = Tap()


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def cells_blob(mv):
    prev, out = 0, bytearray()
    for v in mv:
        d = v - prev
        out += varint((d << 1) ^ (d >> 63) if d >= 0 else ((-d) << 1) - 1)
        prev = v
    return bytes(out)


def make_db(path, n):
    db = sqlite3.connect(path)
    db.executescript("""
      PRAGMA application_id = 1347897411; PRAGMA user_version = 1;
      CREATE TABLE devices (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, name TEXT,
        created_ms INTEGER NOT NULL);
      CREATE TABLE samples (device_id INTEGER NOT NULL, t_ms INTEGER NOT NULL,
        pack_cv INTEGER, current_ca INTEGER, soc INTEGER, temp_mosfet INTEGER,
        temp1 INTEGER, temp2 INTEGER, status INTEGER, warnings INTEGER, alarms_ext INTEGER,
        cells BLOB, PRIMARY KEY (device_id, t_ms)) WITHOUT ROWID;
      CREATE TABLE alarm_events (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,
        t_ms INTEGER NOT NULL, code TEXT NOT NULL, raised INTEGER NOT NULL, value REAL,
        threshold REAL, text TEXT);
      CREATE INDEX alarm_events_time ON alarm_events (t_ms);
      CREATE TABLE audit (id INTEGER PRIMARY KEY, device_id INTEGER NOT NULL,
        t_ms INTEGER NOT NULL, field TEXT NOT NULL, old_value TEXT, new_value TEXT,
        result TEXT NOT NULL);
      CREATE INDEX audit_time ON audit (t_ms);
      INSERT INTO devices VALUES (1, '/dev/ttyUSB0:1', 'Garage pack', 0);
      INSERT INTO devices VALUES (2, 'tcp://10.0.0.7:8899:2', NULL, 0);
    """)
    rows = []
    for i in range(n):
        cells = [3300 + (c * 7 + i) % 20 for c in range(16)]
        rows.append((1, T0_MS + i * 1000, sum(cells) // 10, (i % 200) * 50 - 5000, 50 + i % 10,
                     30, 25, 24, 11, 0, None, cells_blob(cells)))
    db.executemany("INSERT INTO samples VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO alarm_events (device_id, t_ms, code, raised, value, threshold, text)"
                   " VALUES (?,?,?,?,?,?,?)",
                   [(1, T0_MS + 30000, "cell_ovp", 1, 3.66, 3.65, "Cell 3 over-voltage"),
                    (1, T0_MS + 90000, "cell_ovp", 0, 3.55, 3.60, "Cell 3 over-voltage"),
                    (2, T0_MS + 95000, "low_capacity", 1, None, None, "Low capacity")])
    db.execute("INSERT INTO audit (device_id, t_ms, field, old_value, new_value, result)"
               " VALUES (1, ?, 'cell_ovp_mv', '3650', '3600', 'ok')", (T0_MS + 60000,))
    db.commit()
    db.close()


def iso(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))


with tempfile.TemporaryDirectory(prefix="cli-history-") as tmp:
    db = os.path.join(tmp, "history.db")
    make_db(db, 3000)
    xlsx = os.path.join(tmp, "out.xlsx")
    csv = os.path.join(tmp, "out.csv")

    for command in ("export", "alarms", "audit"):
        status, out, err = run([CLI, command, "--help"])
        tap.ok(status == 0 and f"packwatch-cli {command}" in out, f"{command} --help", err)
    status, out, err = run([CLI, "--help"])
    tap.ok(all(f"\n  {c} " in out for c in ("export", "alarms", "audit")), "listed in --help", out)

    status, out, err = run([CLI, "export", "--db", os.path.join(tmp, "none.db"), "--csv", csv])
    tap.ok(status == 2 and "no history database" in err and not os.path.exists(os.path.join(tmp, "none.db")),
           "export of a missing database: refused, nothing created", err)
    status, out, err = run([CLI, "export", "--db", db, "--csv", csv, "--xlsx", xlsx])
    tap.ok(status == 2 and "exactly one" in err, "export needs exactly one of --xlsx/--csv", err)
    status, out, err = run([CLI, "export", "--db", db, "--csv", csv, "--from", "yesterday"])
    tap.ok(status == 2 and "not a date" in err and "ISO 8601" in err, "a bad --from is named", err)
    status, out, err = run([CLI, "alarms", "--db", db, "--device", "kitchen"])
    tap.ok(status == 2 and "no device" in err and "/dev/ttyUSB0:1" in err, "an unknown --device lists the known", err)

    status, out, err = run([CLI, "export", "--db", db, "--xlsx", xlsx])
    tap.ok(status == 0 and "3004 rows" in err, "export --xlsx", err)
    expect = {"sheets": {"Summary": None, "Samples": 3001, "Cells": 3001, "Alarms": 4,
                         "Audit": 2, "Health": 17, "Chart": None}, "charts": 5,
              "values": [["Samples", "B2", "Garage pack"], ["Alarms", "B4", "tcp://10.0.0.7:8899:2"]]}
    p = subprocess.run(["/usr/bin/python3", CHECK_XLSX, xlsx, json.dumps(expect)],
                       capture_output=True, text=True)
    tap.ok(p.returncode == 0, "the workbook reads back (openpyxl)", p.stdout + p.stderr)
    with sqlite3.connect(db) as con:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        minutes = con.execute("SELECT count(*) FROM rollup_minute").fetchone()[0]
    tap.ok(version == 4 and minutes == 50, "the schema-1 file was migrated on open", (version, minutes))

    status, out, err = run([CLI, "export", "--db", db, "--xlsx", xlsx, "--rows-per-sheet", "1001"])
    expect = {"sheets": {"Summary": None, "Samples": 1001, "Samples (2)": 1001, "Samples (3)": 1001,
                         "Cells": 1001, "Cells (2)": 1001, "Cells (3)": 1001, "Alarms": 4,
                         "Audit": 2, "Health": 17, "Chart": None}, "charts": 5}
    p = subprocess.run(["/usr/bin/python3", CHECK_XLSX, xlsx, json.dumps(expect)],
                       capture_output=True, text=True)
    tap.ok(status == 0 and p.returncode == 0, "split past a lowered row limit", err + p.stderr)

    status, out, err = run([CLI, "export", "--db", db, "--csv", csv, "--device", "Garage pack",
                            "--from", iso(T0_MS + 100000), "--to", iso(T0_MS + 199000)])
    lines = open(csv).read().splitlines() if status == 0 else []
    tap.ok(status == 0 and len(lines) == 101 and lines[0].startswith("time,device,pack_voltage_v")
           and lines[0].endswith("cell_16_v"), "export --csv --from --to: 100 rows", err)

    status, out, err = run([CLI, "alarms", "--db", db])
    tap.ok(status == 0 and out.count("cell_ovp") == 2 and "raised" in out and "cleared" in out
           and "low_capacity" in out, "alarms: table", out + err)
    status, out, err = run([CLI, "alarms", "--db", db, "--json", "--limit", "2"])
    events = json.loads(out) if status == 0 else []
    tap.ok(len(events) == 2 and events[0]["raised"] is False and events[1]["value"] is None
           and events[1]["device"] == "tcp://10.0.0.7:8899:2", "alarms --json --limit: newest two", out)
    status, out, err = run([CLI, "alarms", "--db", db, "--device", "1", "--json"])
    tap.ok(status == 0 and len(json.loads(out)) == 2, "alarms --device by id", out)
    status, out, err = run([CLI, "audit", "--db", db])
    tap.ok(status == 0 and "cell_ovp_mv" in out and "3650" in out and "3600" in out and " ok" in out,
           "audit: table", out + err)
    status, out, err = run([CLI, "audit", "--db", db, "--json", "--from", iso(T0_MS + 61000)])
    tap.ok(status == 0 and json.loads(out) == [], "audit --from after the write: empty", out)

    # Interrupted: SIGINT in the middle leaves the earlier file as it was.
    big = os.path.join(tmp, "big.db")
    make_db(big, 150000)
    run([CLI, "audit", "--db", big])  # migrate once, outside the timed part
    with open(xlsx, "wb") as f:
        f.write(OLD)
    proc = subprocess.Popen([CLI, "export", "--db", big, "--xlsx", xlsx],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Interrupt once the export is under way (its temporary file exists: the
    # signal handlers are installed before it is created).
    for _ in range(1000):
        if [n for n in os.listdir(tmp) if n.startswith(".out.xlsx.")] or proc.poll() is not None:
            break
        time.sleep(0.01)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    tap.ok(proc.returncode == 1 and "interrupted" in err, "SIGINT cancels the export", err)
    tap.ok(open(xlsx, "rb").read() == OLD, "the earlier file is whole")
    tap.ok(not [n for n in os.listdir(tmp) if n.startswith(".out.xlsx")], "no temporary file left",
           os.listdir(tmp))

    # kill -9 in the middle leaves the temporary file (nothing can remove
    # it then); the next export in that folder does, but not the file of an
    # export still running (this process stands in for one).
    live = os.path.join(tmp, f".other.csv.packwatch-export-{os.getpid()}@{socket.gethostname()}.abcdef")
    open(live, "w").close()
    leftovers = []
    for attempt in range(3):
        proc = subprocess.Popen([CLI, "export", "--db", big, "--xlsx", xlsx],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(1000):
            temps = [n for n in os.listdir(tmp) if n.startswith(".out.xlsx.packwatch-export-")]
            if temps or proc.poll() is not None:
                break
            time.sleep(0.01)
        time.sleep(0.2)
        proc.kill()
        proc.communicate(timeout=30)
        leftovers += [n for n in os.listdir(tmp) if n.startswith(".out.xlsx.packwatch-export-")]
    tap.ok(len(set(leftovers)) >= 1 and all(f"@{socket.gethostname()}." in n for n in leftovers),
           f"kill -9 of export leaves its temporary file ({len(set(leftovers))} after 3 kills)",
           os.listdir(tmp))
    status, out, err = run([CLI, "export", "--db", db, "--csv", csv])
    left = [n for n in os.listdir(tmp) if ".packwatch-export-" in n]
    tap.ok(status == 0 and left == [os.path.basename(live)],
           "the next export removes the killed exports' files, not a live one's", (left, err))
    os.unlink(live)

    # --device by a name three devices share: listed, refused.
    multi = os.path.join(tmp, "multi.db")
    make_db(multi, 20)
    with sqlite3.connect(multi) as con:
        con.execute("UPDATE devices SET name = 'PWSIM001'")
        con.execute("INSERT INTO devices VALUES (3, 'tcp://10.0.0.8:8899:1', 'PWSIM001', 0)")
    status, out, err = run([CLI, "export", "--db", multi, "--csv", csv, "--device", "PWSIM001"])
    tap.ok(status == 2 and "3 devices are named “PWSIM001”" in err
           and all(k in err for k in ("/dev/ttyUSB0:1", "tcp://10.0.0.7:8899:2", "tcp://10.0.0.8:8899:1"))
           and "20 samples" in err and "no samples" in err and "--device ID" in err,
           "export --device NAME of three devices: listed (key, first/last, count) and refused", err)
    status, out, err = run([CLI, "export", "--db", multi, "--csv", csv, "--device", "/dev/ttyUSB0:1"])
    tap.ok(status == 0 and "Wrote" in err, "the same export by key: written", err)

    # Read-only media: the WAL index cannot be created next to the file (a
    # directory has its name: that stops root too; chmod adds to it when
    # the test does not run as root). export, alarms and audit still read.
    rodir = os.path.join(tmp, "ro")
    os.mkdir(rodir)
    ro = os.path.join(rodir, "history.db")
    shutil.copy(db, ro)
    os.mkdir(ro + "-wal")
    os.mkdir(ro + "-shm")
    os.chmod(ro, 0o444)
    os.chmod(rodir, 0o555)
    status, out, err = run([CLI, "export", "--db", ro, "--csv", csv])
    tap.ok(status == 0 and "3000 rows" in err, "export from read-only media", err)
    status, out, err = run([CLI, "alarms", "--db", ro])
    tap.ok(status == 0 and "cell_ovp" in out, "alarms from read-only media", err)
    status, out, err = run([CLI, "audit", "--db", ro])
    tap.ok(status == 0 and "cell_ovp_mv" in out, "audit from read-only media", err)
    os.chmod(rodir, 0o755)

    # A file of ours without its samples table: SQLite's words, and that it
    # is damaged (was "Cannot prepare the writer: not an error").
    broken = os.path.join(tmp, "broken.db")
    shutil.copy(db, broken)
    with sqlite3.connect(broken) as con:
        con.execute("DROP TABLE samples")
    status, out, err = run([CLI, "log", "--db", broken, "--port", "tcp://127.0.0.1:1"])
    tap.ok(status == 1 and "no such table: samples" in err
           and "not a history database or is damaged" in err and "not an error" not in err,
           "a database without its samples table: the real reason", err)

tap.done()
