#!/usr/bin/python3
"""Reads a Packwatch .xlsx export with an independent reader (openpyxl) and
checks it against the expectations given as JSON in argv[2]:
  {"sheets": {"Summary": null, "Samples": 251, ...},   # name -> rows (null: any)
   "dates": [["Samples", "A2", "2026-01-01 01:00:17"], ...],
   "values": [["Cells", "R1", "Cell 16 (V)"], ["Samples", "C2", 52.8], ...],
   "charts": 5, "chart_titles": ["Pack voltage", ...],
   "chart_y": {"SOC": [0, 100]}}                    # fixed value axes
Every chart must be a scatter chart on a time axis (see check_chart).
Exits 0 when everything matches, 1 with a list of the differences."""
import datetime
import json
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

import openpyxl


C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"


def val(element, tag):
    child = element.find(C + tag) if element is not None else None
    return child.get("val") if child is not None else None


def check_chart(name, data, expect, problems):
    """A scatter chart (a line chart's category axis counts whole days)
    whose x values are the Chart sheet's times, on a date-time axis with
    labels at the bottom, bounds and a major unit giving 2 to 10 steps.
    Returns the chart's title."""
    root = ET.fromstring(data)
    heading = root.find(f"{C}chart/{C}title")
    title = "".join(t.text or "" for t in heading.iter(A + "t")) if heading is not None else ""
    plot = root.find(f"{C}chart/{C}plotArea")
    scatter = plot.find(C + "scatterChart")
    if scatter is None or plot.find(C + "lineChart") is not None:
        problems.append(f"{name} ({title}) is not a scatter chart")
        return title
    for ser in scatter.findall(C + "ser"):
        ref = ser.find(f"{C}xVal/{C}numRef/{C}f")
        if ref is None or not ref.text.startswith("Chart!$A$2"):
            problems.append(f"{name} ({title}) does not plot the Chart sheet's times")
    axes = {val(ax, "axPos"): ax for ax in plot.findall(C + "valAx")}
    x, y = axes.get("b"), axes.get("l")
    if x is None or y is None:
        problems.append(f"{name} ({title}) has no value axes at the bottom and left: {list(axes)}")
        return title
    fmt = x.find(C + "numFmt")
    code = fmt.get("formatCode") if fmt is not None else ""
    if not re.search(r"hh:mm|yyyy-mm-dd", code) or fmt.get("sourceLinked") != "0":
        problems.append(f"{name} ({title}): time axis format {code!r} is not a date-time format")
    for axis, which in ((x, "time"), (y, "value")):
        if val(axis, "tickLblPos") != "low":
            problems.append(f"{name} ({title}): {which} axis labels are at "
                            f"{val(axis, 'tickLblPos')!r}, not 'low'")
    scaling = x.find(C + "scaling")
    lo, hi, unit = val(scaling, "min"), val(scaling, "max"), val(x, "majorUnit")
    if None in (lo, hi, unit):
        problems.append(f"{name} ({title}): time axis without min/max/major unit")
    elif not 2 <= (float(hi) - float(lo)) / float(unit) <= 10.001:
        problems.append(f"{name} ({title}): {lo}..{hi} in steps of {unit}")
    want = expect.get("chart_y", {}).get(title)
    if want is not None:
        ys = y.find(C + "scaling")
        got = [float(val(ys, "min") or "nan"), float(val(ys, "max") or "nan")]
        if got != want:
            problems.append(f"{name} ({title}): value axis {got}, expected {want}")
    return title


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
        titles = {}
        for n in sorted(charts, key=lambda n: int(re.search(r"\d+", n).group())):
            title = check_chart(n, z.read(n), expect, problems)
            titles[title] = n
        if "chart_titles" in expect and list(titles) != expect["chart_titles"]:
            problems.append(f"chart titles {list(titles)} != {expect['chart_titles']}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print("xlsx ok:", ", ".join(f"{n} {wb[n].max_row}" for n in names))
    return 0


if __name__ == "__main__":
    sys.exit(main())
