#!/usr/bin/env python3
"""Pages bind to device properties and settings, not to raw field ids
(docs/architecture.md).

Counts, in every src/ui/*.c without its comments and strings, the names of
wire fields: BMS_ID_* constants, hexadecimal literals that are ids of the
catalogue (src/link/bms-field.c) and catalogue lookups by name. A page not listed below
must name none; a listed one no more than its count. The Param page is a
generic table over the catalogue, so it may name fields (its count may
only go down).

The templates (data/ui/*.ui) may not carry a field id as an action target
either.

usage: test-raw-ids.py SOURCE_ROOT
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from taplib import Tap  # noqa: E402

ALLOWED = {
    # catalogue-driven: the table of every field, and its HV replacements
    "bms-param-page.c": 4,
}

COMMENT_OR_STRING = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
RAW_ID = re.compile(r'\bBMS_ID_[A-Z0-9_]+\b|\b0[xX]([0-9A-Fa-f]{2})\b|\bbms_field_lookup_name\b')


def blank(match):
    # keep the line count for the messages
    return re.sub(r'[^\n]', ' ', match.group(0))


def catalogue_ids(root):
    with open(os.path.join(root, "src", "link", "bms-field.c"), encoding="utf-8") as f:
        return {int(m.group(1), 16) for m in re.finditer(r'^\s*\{ 0x([0-9A-Fa-f]{2}),', f.read(), re.M)}


def raw_ids(path, ids):
    with open(path, encoding="utf-8") as f:
        code = COMMENT_OR_STRING.sub(blank, f.read())
    found = []
    for number, line in enumerate(code.splitlines(), 1):
        for m in RAW_ID.finditer(line):
            if m.group(1) is not None and int(m.group(1), 16) not in ids:
                continue  # a byte, not a field: ASCII bounds, masks
            found.append(f"{number}: {m.group(0)}")
    return found


root = sys.argv[1]
ui = os.path.join(root, "src", "ui")
tap = Tap()
ids = catalogue_ids(root)
tap.ok(0xAA in ids and 0x79 in ids and 0x7E not in ids and len(ids) > 50,
       f"the catalogue's {len(ids)} ids are read", sorted(ids))

# The scanner itself: a field named in code is found, in a comment it is not.
probe = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"raw-ids-probe-{os.getpid()}.c")
with open(probe, "w", encoding="utf-8") as f:
    f.write('/* 0xAA */ x = lookup (0xAA); y = BMS_ID_SOC; "0xBA"; z = 0x7E;\n')
try:
    tap.ok(raw_ids(probe, ids) == ["1: 0xAA", "1: BMS_ID_SOC"],
           "the scanner finds ids in code and skips comments, strings and plain bytes",
           raw_ids(probe, ids))
finally:
    os.unlink(probe)

total = 0
for name in sorted(os.listdir(ui)):
    if not name.endswith(".c"):
        continue
    found = raw_ids(os.path.join(ui, name), ids)
    total += len(found)
    limit = ALLOWED.get(name, 0)
    tap.ok(len(found) <= limit,
           f"{name}: {len(found)} raw field ids (at most {limit})",
           "bind to a BmsDevice property or a BmsSetting instead:\n" + "\n".join(found))
tap.diag(f"{total} raw field ids in src/ui")

# Templates: an action target naming a field by its byte id.
UI_TARGET = re.compile(r'byte\s+0[xX]([0-9A-Fa-f]{2})')
templates = os.path.join(root, "data", "ui")
for name in sorted(os.listdir(templates)):
    if name.endswith(".ui"):
        with open(os.path.join(templates, name), encoding="utf-8") as f:
            hits = [m.group(0) for m in UI_TARGET.finditer(f.read()) if int(m.group(1), 16) in ids]
        tap.ok(not hits, f"data/ui/{name}: no field id as an action target",
               "name the setting instead: " + ", ".join(hits))
for name in ALLOWED:
    tap.ok(os.path.exists(os.path.join(ui, name)), f"{name} (allowed) exists")
tap.done()
