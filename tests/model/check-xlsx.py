#!/usr/bin/python3
"""Reads a Packwatch .xlsx export with an independent reader (openpyxl) and
checks it against the expectations given as JSON in argv[2]:
  {"sheets": {"Summary": null, "Samples": 251, ...},   # name -> rows (null: any)
   "dates": [["Samples", "A2", "2026-01-01 01:00:17"], ...],
   "values": [["Cells", "R1", "Cell 16 (V)"], ["Samples", "C2", 52.8], ...],
   "charts": 2}
Exits 0 when everything matches, 1 with a list of the differences."""
import datetime
import json
import re
import sys
import zipfile

import openpyxl


def main():
    path, expect = sys.argv[1], json.loads(sys.argv[2])
    problems = []
    wb = openpyxl.load_workbook(path)
    names = wb.sheetnames
    if names != list(expect["sheets"]):
        problems.append(f"sheets {names} != {list(expect['sheets'])}")
    for name, rows in expect["sheets"].items():
        if rows is not None and name in names and wb[name].max_row != rows:
            problems.append(f"{name}: {wb[name].max_row} rows, expected {rows}")
    for sheet, ref, text in expect.get("dates", []):
        value = wb[sheet][ref].value
        if not isinstance(value, datetime.datetime):
            problems.append(f"{sheet}!{ref} is {type(value).__name__} {value!r}, not a date")
        elif (value + datetime.timedelta(milliseconds=500)).strftime("%Y-%m-%d %H:%M:%S") != text:
            problems.append(f"{sheet}!{ref} = {value}, expected {text}")
    for sheet, ref, want in expect.get("values", []):
        value = wb[sheet][ref].value
        ok = abs(value - want) < 1e-6 if isinstance(want, float) and isinstance(value, (int, float)) else value == want
        if not ok:
            problems.append(f"{sheet}!{ref} = {value!r}, expected {want!r}")
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        if len(charts) != expect.get("charts", 0):
            problems.append(f"{len(charts)} charts, expected {expect.get('charts', 0)}")
        for n in charts:
            xml = z.read(n).decode()
            if "<c:lineChart>" not in xml:
                problems.append(f"{n} is not a line chart")
            if "Chart!$A$2" not in xml:
                problems.append(f"{n} does not plot the Chart sheet's times")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("xlsx ok:", ", ".join(f"{n} {wb[n].max_row}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
