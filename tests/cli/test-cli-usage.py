#!/usr/bin/python3
"""packwatch-cli without a board: dispatch, usage, option errors, the field
catalogue, and `write` refusing bad values before anything reaches the wire
(checked on a TCP listener and a pseudo-terminal that must stay silent).

usage: test-cli-usage.py PATH-TO-packwatch-cli"""
import json
import os
import pty
import select
import socket
import sys

from taplib import Tap, run

CLI = sys.argv[1]
tap = Tap()

# read and write are in the table once the session has landed.
_, top_help, _ = run([CLI, "--help"])
BOARD = "\n  write " in top_help
board_commands = ("read", "write") if BOARD else ()

# --- dispatch ---------------------------------------------------------------
status, out, err = run([CLI])
tap.ok(status == 2 and "Commands:" in err and "decode" in err, "no command: usage, exit 2", err)
status, out, err = run([CLI, "--help"])
tap.ok(status == 0 and all(c in out for c in ("ports", "decode", "fields") + board_commands),
       "--help lists every command", out)
status, out, err = run([CLI, "raed"])
tap.ok(status == 2 and 'unknown command "raed"' in err and "Commands:" in err,
       "unknown command: named, usage shown, exit 2", err)
status, out, err = run([CLI, "fieldz"])
tap.ok('did you mean "fields"' in err, "unknown command: close one suggested", err)
for command in ("ports", "decode", "fields") + board_commands:
    status, out, err = run([CLI, command, "--help"])
    tap.ok(status == 0 and f"packwatch-cli {command}" in out, f"{command} --help", f"{status} {err}")
status, out, err = run([CLI, "decode", "--bogus"])
tap.ok(status == 2 and "--bogus" in err, "unknown option: exit 2, named", err)
status, out, err = run([CLI, "ports", "--json"])
try:
    ports = json.loads(out)
except ValueError:
    ports = None
tap.ok(status == 0 and isinstance(ports, list)
       and all({"name", "description", "vid_pid"} <= set(p) for p in ports),
       f"ports --json: a list ({len(ports or [])} ports here)", f"{status} {out} {err}")

# --- fields -----------------------------------------------------------------
status, out, err = run([CLI, "fields", "--json"])
fields = json.loads(out) if status == 0 else []
names = {f["name"] for f in fields}
tap.ok(status == 0 and len(fields) > 60, f"fields --json: {len(fields)} fields", err)
required = ["cell_count", "pack_voltage_16bit_v", "pack_voltage_hv_v", "current_a", "soc_pct", "mosfet_temp_c",
            "temp1_c", "temp2_c", "cycles", "warnings", "status", "protocol_version",
            "software_version", "manufacturer_id", "device_id", "runtime_min", "capacity_ah",
            "battery_type", "cell_ovp_mv", "cell_ovp_recovery_mv", "cell_uvp_mv",
            "cell_uvp_recovery_mv", "charge_low_temp_c"]
missing = [n for n in required if n not in names]
tap.ok(not missing, "catalogue has every key name issue 2 fixes", f"missing: {missing}")
ext = [f for f in fields if f["extension"]]
tap.ok(ext and all(0xD0 <= f["id"] <= 0xEF for f in ext), "extensions live in 0xD0-0xEF",
       [hex(f["id"]) for f in ext])
status, out, err = run([CLI, "fields", "--markdown"])
tap.ok(status == 0 and "| 0x90 | `cell_ovp_mv` |" in out and "| 0xD0 |" in out,
       "fields --markdown: a row per field, public and extension", out[:400])
status, out, err = run([CLI, "fields"])
tap.ok(status == 0 and "cell_ovp_mv" in out, "fields: table", err)
status, out, err = run([CLI, "fields", "--json", "--markdown"])
tap.ok(status == 2, "fields --json --markdown: exit 2", err)

# --- connection options -----------------------------------------------------
if not BOARD:
    tap.diag("read/write not built yet (waiting for the session): their checks are skipped")
    tap.done()
status, out, err = run([CLI, "read"])
tap.ok(status == 2 and "--port" in err, "read without --port: exit 2, says --port is needed", err)
status, out, err = run([CLI, "read", "--port", "sim://", "--baud", "1234"])
tap.ok(status == 2 and "9600" in err and "115200" in err, "bad baud: exit 2, lists the rates", err)

# --- write refuses before anything is sent ----------------------------------
def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    s.setblocking(False)
    return s


def nobody_connected(s):
    try:
        conn, _ = s.accept()
        conn.close()
        return False
    except BlockingIOError:
        return True


def refused(args, expect_in_err, description):
    s = listener()
    port = s.getsockname()[1]
    status, out, err = run([CLI, "write", "--port", f"tcp://127.0.0.1:{port}",
                            "--password", "123456"] + args)
    silent = nobody_connected(s)
    s.close()
    missing = [w for w in expect_in_err if w not in err]
    tap.ok(status == 2 and not missing and silent and "nothing was sent" in err,
           f"{description}: exit 2, no connection made",
           f"status {status}, connected {not silent}, missing {missing}\n{err}")
    return err


err = refused(["cell_ovp_mv=9999"], ["cell_ovp_mv", "9999", "1500", "4500"],
              "cell_ovp_mv=9999 out of range")
tap.diag(err.strip())
refused(["cell_ovp_mv=3600", "charge_low_temp_c=-80"], ["charge_low_temp_c", "-80"],
        "one bad value among good ones")
err = refused(["cell_ovp=3600"], ["cell_ovp", "cell_ovp_mv"], "unknown name suggests cell_ovp_mv")
tap.diag(err.strip())
refused(["pack_voltage_16bit_v=50"], ["pack_voltage_16bit_v", "read-only"], "read-only field")
refused(["cell_ovp_mv=high"], ["cell_ovp_mv", "high"], "value that is not a number")
refused(["cell_ovp_mv"], ["NAME=VALUE"], "argument without =")
refused(["cell_ovp_mv=3600", "cell_ovp_mv=3550"], ["twice"], "same field twice")
err = refused(["cell_ovp_mv=9999", "soc_pct=5", "nosuch=1"],
              ["cell_ovp_mv", "soc_pct", "nosuch"], "every mistake reported in one run")

s = listener()
status, out, err = run([CLI, "write", "--port", f"tcp://127.0.0.1:{s.getsockname()[1]}",
                        "cell_ovp_mv=3600"])
tap.ok(status == 2 and "--password" in err and nobody_connected(s),
       "write without --password: exit 2, nothing sent", err)
s.close()

# The same on a pseudo-terminal: the other side must read nothing.
master, slave = pty.openpty()
slave_path = os.ttyname(slave)
status, out, err = run([CLI, "write", "--port", slave_path, "--password", "123456",
                        "cell_uvp_mv=100"])
readable, _, _ = select.select([master], [], [], 0.3)
tap.ok(status == 2 and "cell_uvp_mv" in err and not readable,
       "range refusal on a pseudo-terminal: exit 2, no byte on the line",
       f"{status} readable={bool(readable)} {err}")
os.close(master)
os.close(slave)

# One range for the user: the vendor sheet's where it narrows the catalogue
# (charge protection level 1: 1500-4500 mV, the catalogue takes 1000), the
# same in fields, fields --json, write's refusal and docs/protocol.md.
status, out, err = run([CLI, "fields"])
row = [l for l in out.splitlines() if " cell_ovp_mv " in l]
tap.ok(status == 0 and row and "1500..4500" in row[0], "fields shows the vendor range", row)
status, out, err = run([CLI, "fields", "--json"])
f = [x for x in json.loads(out) if x["name"] == "cell_ovp_mv"][0] if status == 0 else {}
tap.ok(f.get("min") == 1500 and f.get("max") == 4500 and f.get("catalogue_min") == 1000,
       "fields --json: min/max the vendor range, catalogue_min the wire's", f)
for value in ("9999", "1200"):
    status, out, err = run([CLI, "write", "--port", "sim://", "--dry-run", f"cell_ovp_mv={value}"])
    tap.ok(status == 2 and "allowed 1500 mV to 4500 mV" in err and "1000" not in err,
           f"cell_ovp_mv={value} is refused naming 1500-4500 mV", err)
doc = open(os.path.join(os.environ.get("PACKWATCH_SOURCE_ROOT", "."), "docs", "protocol.md")).read()
tap.ok("| 0x90 | `cell_ovp_mv` | 2 | RW | uint | mV |  | 1500 … 4500 |" in doc,
       "docs/protocol.md shows the same range")

tap.done()
