#!/usr/bin/python3
"""packwatch-cli decode: the shared vectors, every separator style, and each
kind of broken frame with its reason and the exit status.

usage: test-cli-decode.py PATH-TO-packwatch-cli"""
import os
import sys
import tempfile

from taplib import Tap, hexline, json_lines, nw_frame, run, vectors_dir, with_checksum

CLI = sys.argv[1]
tap = Tap()
vectors = vectors_dir()
with open(os.path.join(vectors, "nw-readall-14s.hex")) as f:
    REPLY14 = bytes.fromhex(f.readline())
with open(os.path.join(vectors, "nw-request-readall.hex")) as f:
    REQUEST = bytes.fromhex(f.readline())


def decode(text):
    status, out, err = run([CLI, "decode"], stdin_text=text)
    try:
        objects = json_lines(out)
    except ValueError as e:
        objects = None
        err += f"\nnot JSON lines: {e}\n{out}"
    return status, objects, err


def near(a, b):
    return isinstance(a, (int, float)) and abs(a - b) < 1e-6


# --- the published 14-cell reply, from the file as shipped ------------------
status, out, err = run([CLI, "decode", os.path.join(vectors, "nw-readall-14s.hex")])
objs = json_lines(out)
tap.ok(status == 0 and len(objs) == 1 and objs[0]["ok"] is True,
       "14-cell vector decodes (file argument), exit 0", f"{status} {out} {err}")
o = objs[0] if objs else {}
tap.ok(o.get("command") == "read_all" and o.get("source") == "bms"
       and o.get("transport") == "reply" and o.get("terminal") == 0,
       "frame header: read_all, bms, reply, terminal 0", o)
expected_cells = [3821, 3834, 3831, 3820, 3832, 3834, 3825, 3832, 3811, 3834, 3825, 3835,
                  3835, 3826]
tap.ok(o.get("cells_mv") == expected_cells and o.get("cell_count") == 14,
       "cells_mv in cell order, cell_count 14", o.get("cells_mv"))
checks = {
    "pack_voltage_v": 53.59, "pack_voltage_16bit_v": 53.59, "current_a": 2.08, "soc_pct": 15, "mosfet_temp_c": 29,
    "temp1_c": 30, "temp2_c": 28, "cycles": 4, "status": 7, "warnings": 0,
    "cell_ovp_mv": 4050, "cell_ovp_recovery_mv": 4000, "cell_uvp_mv": 3050,
    "cell_uvp_recovery_mv": 3100, "capacity_ah": 14, "charge_low_temp_c": -20,
    "runtime_min": 57856, "protocol_version": 1,
}
for key, value in checks.items():
    tap.ok(near(o.get(key), value), f"{key} = {value}", f"got {o.get(key)!r}")
strings = {
    "battery_type": "nmc", "software_version": "H6.X__S6.1.3S__",
    "manufacturer_id": "BT3072020120000200521001", "device_id": "Input Us",
}
for key, value in strings.items():
    tap.ok(o.get(key) == value, f"{key} = {value!r}", f"got {o.get(key)!r}")

# --- the parameter password (0xB2) only on request ---------------------------
tap.ok("parameter_password" not in o, "the board's password is not printed by default",
       o.get("parameter_password"))
status, out, err = run([CLI, "decode", "--show-password",
                        os.path.join(vectors, "nw-readall-14s.hex")])
shown = json_lines(out)[0] if status == 0 else {}
tap.ok(shown.get("parameter_password") == "123456"
       and {k: v for k, v in shown.items() if k != "parameter_password"} == o,
       "--show-password adds the password, nothing else changes", f"{status} {out} {err}")
password_request = nw_frame(0x05, 3, 0, bytes([0xB2]) + b"654321".ljust(10, b"\0"))
status, objs, err = decode(hexline(password_request) + "\n")
tap.ok(status == 0 and objs and objs[0].get("command") == "password"
       and "parameter_password" not in objs[0] and "654321" not in str(objs),
       "a password request on the line: the password it carries is not printed",
       f"{status} {objs} {err}")

# --- the request vector, via stdin ------------------------------------------
status, objs, err = decode(hexline(REQUEST) + "\n")
tap.ok(status == 0 and objs and objs[0].get("command") == "read_all"
       and objs[0].get("source") == "pc" and objs[0].get("transport") == "request"
       and objs[0].get("read") == "all",
       "read-all request: pc, request, read all (stdin)", f"{status} {objs} {err}")

# --- separators and decorations: all give the same decoded frame ------------
reference = {k: v for k, v in o.items() if k != "line"}
forms = {
    "spaces": hexline(REPLY14),
    "colons": hexline(REPLY14, ":"),
    "commas": hexline(REPLY14, ","),
    "comma and space": hexline(REPLY14, ", "),
    "0x prefixes with commas": ", ".join(f"0x{b:02x}" for b in REPLY14),
    "0x prefixes with spaces": " ".join(f"0X{b:02X}" for b in REPLY14),
    "no separator, lower case": REPLY14.hex(),
    ">>> marker": ">>> " + hexline(REPLY14),
    "<<< marker, no space": "<<<" + hexline(REPLY14),
    "tabs and trailing comment": "\t" + hexline(REPLY14, "\t") + "   # the 14S reply",
    "CRLF line end": hexline(REPLY14) + "\r",
}
for name, line in forms.items():
    status, objs, err = decode(line + "\n")
    got = {k: v for k, v in objs[0].items() if k != "line"} if objs else None
    tap.ok(status == 0 and objs is not None and len(objs) == 1 and got == reference,
           f"separator style: {name}", f"{status} {err} {objs}")

text = "# captured on the bench\n\n" + hexline(REQUEST) + "\n   \n# reply:\n" + hexline(REPLY14) + "\n"
status, objs, err = decode(text)
tap.ok(status == 0 and [x.get("line") for x in objs or []] == [3, 6],
       "comments and blank lines skipped, line numbers kept", f"{status} {objs} {err}")

# --- each kind of broken frame ----------------------------------------------
bad_start = b"\x4F" + REPLY14[1:]
bad_length = REPLY14[:2] + b"\x00\x02" + REPLY14[4:]
huge_length = REPLY14[:2] + b"\xFF\xFF" + REPLY14[4:]
truncated = REPLY14[:100]
no_end = with_checksum(REPLY14[:-5] + b"\x00" + REPLY14[-4:])
bad_sum = REPLY14[:-1] + bytes([REPLY14[-1] ^ 0x01])
unknown_id = nw_frame(0x06, 0, 1, [0x42, 0x00, 0x01])
cases = [
    ("bad start", hexline(bad_start), "bad_start"),
    ("length field too small", hexline(bad_length), "bad_length"),
    ("length field too large", hexline(huge_length), "bad_length"),
    ("truncated", hexline(truncated), "truncated"),
    ("missing end marker", hexline(no_end), "missing_end_marker"),
    ("checksum mismatch", hexline(bad_sum), "checksum_mismatch"),
    ("unknown identifier in info", hexline(unknown_id), "bad_info"),
    ("identifier given twice", hexline(nw_frame(0x06, 0, 1, [0x85, 0x10, 0x85, 0x20])), "bad_info"),
    ("bad hex digit", "4E 57 ZZ 13", "bad_hex"),
    ("odd number of digits", "4E 5 57", "bad_hex"),
    ("0x without digits", "4E 0x 57", "bad_hex"),
]
for name, line, reason in cases:
    status, objs, err = decode(line + "\n")
    o = objs[0] if objs else {}
    tap.ok(status == 1 and len(objs or []) == 1 and o.get("ok") is False
           and o.get("reason") == reason and o.get("line") == 1
           and isinstance(o.get("error"), str) and len(o["error"]) > 5,
           f"{name}: ok false, reason {reason}, exit 1", f"{status} {objs} {err}")
    tap.diag(f"{name}: {o.get('error')}")

status, objs, err = decode(hexline(bad_sum) + "\n")
o = objs[0] if objs else {}
tap.ok(o.get("expected") == "0x54d1" and o.get("actual") == "0x54d0",
       "checksum mismatch names expected 0x54d1 and actual 0x54d0", o)

status, objs, err = decode(hexline(REQUEST) + "\n" + hexline(bad_sum) + "\n" + hexline(REPLY14) + "\n")
tap.ok(status == 1 and [x.get("ok") for x in objs or []] == [True, False, True],
       "one bad frame among good ones: every line reported, exit 1", f"{status} {objs}")

# --- 256 cells: 0x79 carries 1..85, the 0xD0 extension 86..256 -------------
cells = [3000 + (i * 7) % 500 for i in range(256)]
info = [0x79, 3 * 85] + [b for i in range(85) for b in (i + 1, cells[i] >> 8, cells[i] & 0xFF)]
info += [0xD0, 0x01, 0x56] + [b for c in cells[85:] for b in (c >> 8, c & 0xFF)]
info += [0x8A, 0x01, 0x00]
status, objs, err = decode(hexline(nw_frame(0x06, 0, 1, info)) + "\n")
o = objs[0] if objs else {}
tap.ok(status == 0 and o.get("cells_mv") == cells and o.get("cell_count") == 256,
       "256-cell reply: cells_mv has all 256 in order", f"{status} {err} {o.get('cells_mv')}")

# --- implausible values: decoded as sent, flagged ---------------------------
status, objs, err = decode(hexline(nw_frame(0x06, 0, 1, [0x85, 250])) + "\n")
o = objs[0] if objs else {}
tap.ok(status == 0 and o.get("ok") is True and o.get("soc_pct") == 250
       and "soc_pct" in o.get("implausible", ""),
       "SOC 250 %: decoded, flagged implausible with the reason", f"{status} {objs} {err}")
status, objs, err = decode(hexline(REPLY14) + "\n")
tap.ok(objs and "implausible" not in objs[0], "the vendor's 14-cell reply is not flagged", objs)

# --- replies to writes and password, write request --------------------------
write_req = nw_frame(0x02, 3, 0, [0x90, 0x0E, 0x42], terminal=1)
write_ok = nw_frame(0x02, 0, 1, [0x90, 0x00])
pw_denied = nw_frame(0x05, 0, 1, [0xB2, 0x01])
status, objs, err = decode("\n".join(hexline(x) for x in (write_req, write_ok, pw_denied)) + "\n")
tap.ok(status == 0 and len(objs or []) == 3, "write request and replies decode", f"{status} {objs} {err}")
if objs and len(objs) == 3:
    tap.ok(objs[0].get("command") == "write" and objs[0].get("terminal") == 1
           and objs[0].get("cell_ovp_mv") == 3650, "write request carries cell_ovp_mv 3650", objs[0])
    tap.ok(objs[1].get("field") == "cell_ovp_mv" and objs[1].get("result") == "ok",
           "write reply: field and result ok", objs[1])
    tap.ok(objs[2].get("command") == "password" and objs[2].get("result") == "denied",
           "password reply: result denied", objs[2])

# --- --stream / --binary: frames across lines, garbage between them ---------
dump = "# a serial monitor's dump, 16 bytes a line\n>>> " + "\n".join(
    hexline(REPLY14[i:i + 16]) for i in range(0, len(REPLY14), 16))
dump += "\nFF FF\n<<< " + hexline(REQUEST[:7]) + "\n" + hexline(REQUEST[7:]) + "\n"
status, out, err = run([CLI, "decode", "--stream"], stdin_text=dump)
objs = json_lines(out)
tap.ok(status == 0 and [(o["ok"], o.get("frame"), o.get("transport")) for o in objs]
       == [(True, 1, "reply"), (True, 2, "request")]
       and objs[0].get("cells_mv") == expected_cells
       and "2 frames, 0 invalid, 2 bytes skipped" in err,
       "--stream: a frame over 18 lines, 2 garbage bytes, a frame over 2 lines", f"{status} {err}")
status, out, err = run([CLI, "decode", "--stream"],
                       stdin_text=hexline(REQUEST) + "\n" + hexline(bad_sum) + "\n" + hexline(REQUEST))
objs = json_lines(out)
tap.ok(status == 1 and [o.get("reason") for o in objs] == [None, "checksum_mismatch", None],
       "--stream: a rejected candidate between good frames, exit 1", f"{status} {objs} {err}")
with tempfile.NamedTemporaryFile("wb", suffix=".bin", delete=False) as f:
    f.write(b"\x00\x13" + REPLY14 + REQUEST + REPLY14[:50])
    path = f.name
status, out, err = run([CLI, "decode", "--binary", path])
os.unlink(path)
objs = json_lines(out)
tap.ok(status == 1 and [o.get("ok") for o in objs] == [True, True, False]
       and objs[2].get("reason") == "truncated",
       "--binary: raw capture, two frames and a truncated tail", f"{status} {objs} {err}")

# --- random mutations: every line gets exactly one valid JSON object ---------
import random
rng = random.Random(20261121)
lines = []
for i in range(400):
    frame = bytearray(REPLY14 if i % 2 else nw_frame(0x02, 3, 0, [0xB4] + list(b"Pack\x01\"\\7")))
    for _ in range(rng.randint(0, 4)):
        frame[rng.randrange(len(frame))] = rng.randrange(256)
    if i % 3 == 0:
        frame = bytearray(with_checksum(frame))  # reach the info decoder too
    lines.append(hexline(frame))
status, out, err = run([CLI, "decode"], stdin_text="\n".join(lines) + "\n")
try:
    objs = json_lines(out)
    valid = len(objs) == len(lines) and [o["line"] for o in objs] == list(range(1, 401))
    diag = ""
except ValueError as e:
    valid, diag = False, f"{e}"
tap.ok(valid and status in (0, 1), "400 mutated frames: one valid JSON line each", diag + err[-500:])
tap.ok(status == 1, "mutated frames: exit 1 (some are invalid)", status)

# --- random text from the hex reader's alphabet: never a crash, JSON only ---
alphabet = "0123456789abcdefABCDEFxX:,; \t<>#z\r"
lines = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(300)]
status, out, err = run([CLI, "decode"], stdin_text="\n".join(lines) + "\n")
try:
    objs = json_lines(out)
    good = all(isinstance(o.get("ok"), bool) and 1 <= o.get("line", 0) <= 300 for o in objs)
    diag = ""
except ValueError as e:
    good, diag = False, str(e)
tap.ok(good and status in (0, 1), "300 lines of random hex-ish text: JSON lines only",
       diag + err[-300:])

# --- files and arguments ----------------------------------------------------
with tempfile.NamedTemporaryFile("w", suffix=".hex", delete=False) as f:
    f.write(hexline(REPLY14) + "\n")
    path = f.name
status, out, err = run([CLI, "decode", path])
os.unlink(path)
tap.ok(status == 0 and len(json_lines(out)) == 1, "decode FILE", f"{status} {err}")
status, out, err = run([CLI, "decode", "/nonexistent/frames.hex"])
tap.ok(status == 2 and "/nonexistent/frames.hex" in err, "missing FILE: exit 2, names the file", err)
status, out, err = run([CLI, "decode", "a", "b"])
tap.ok(status == 2, "two FILE arguments: exit 2", err)
status, objs, err = decode("")
tap.ok(status == 0 and objs == [], "empty input: no output, exit 0", f"{status} {objs} {err}")

tap.done()
