#!/usr/bin/python3
"""packwatch-cli report: the service report as a PDF, read back with poppler.

A day of the simulated board is written by make-report-history (one cell
held at a known voltage); the board itself is a packwatch-sim on TCP whose
"charge recovery" was changed, so the report must mark that difference from
the LFP preset. pdftotext, pdfinfo and pdffonts (poppler-utils) check the
text, the page size and the embedded fonts.

Cell health comes from histories of make-health-history (a synthetic pack
with current steps and one cell of a known higher resistance).

usage: test-report.py PACKWATCH-CLI PACKWATCH-SIM MAKE-REPORT-HISTORY MAKE-HEALTH-HISTORY"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from taplib import Tap, run  # noqa: E402

CLI, SIM, MAKE, MAKE_HEALTH = sys.argv[1:5]
BUILD = os.environ.get("PACKWATCH_BUILD_ROOT", ".")
SECTIONS_EN = ["Identity", "Time range", "Summary", "Cells", "Cell health", "Alarms",
               "Parameters", "Audit", "Graphs"]
SECTIONS_ZH = ["设备信息", "时间范围", "概要", "单体", "单体健康", "报警", "参数", "审计", "曲线"]
tap = Tap()
work = tempfile.mkdtemp(prefix="report-")
sim = None

for tool in ("pdftotext", "pdfinfo", "pdffonts"):
    if shutil.which(tool) is None:
        print(f"1..0 # SKIP {tool} missing (Debian poppler-utils)")
        sys.exit(0)


def cli(*args, env=None, timeout=60):
    if env is None:
        return run([CLI] + list(args), timeout=timeout)
    p = subprocess.run([CLI] + list(args), capture_output=True, text=True, env=env,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def pdf_text(path, layout=True):
    args = ["pdftotext"] + (["-layout"] if layout else []) + [path, "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_info(path):
    return subprocess.run(["pdfinfo", path], capture_output=True, text=True, check=True).stdout


def pdf_fonts(path):
    lines = subprocess.run(["pdffonts", path], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    return [line for line in lines if line.strip()]


def start_sim(*extra):
    global sim
    sim = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing"] + list(extra),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                           start_new_session=True)
    return sim.stdout.readline().strip()


def stop_sim():
    if sim and sim.poll() is None:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(timeout=10)


def check_pdf_basics(path, what):
    info = pdf_info(path)
    tap.ok(re.search(r"Page size:\s+595\.27\d? x 841\.89 pts \(A4\)", info),
           f"{what}: pdfinfo says A4", info)
    fonts = pdf_fonts(path)
    tap.ok(fonts and all(re.search(r"\byes\s+yes\s+yes\b", f) for f in fonts),
           f"{what}: pdffonts lists only embedded fonts", "\n".join(fonts))
    return int(re.search(r"Pages:\s+(\d+)", info).group(1)), fonts


try:
    db16 = os.path.join(work, "h16.db")
    status, _, err = run([MAKE, db16, "--mark-cell", "5:3456"], timeout=60)
    if status != 0:
        tap.bail(f"make-report-history failed: {err}")

    # The board: a parameter away from the LFP preset (charge recovery 3550 mV).
    port = start_sim()
    status, out, err = cli("write", "--port", port, "--password", "123456",
                           "cell_ovp_recovery_mv=3500")
    tap.ok(status == 0, "the simulated board takes charge recovery 3500 mV", err)

    out16 = os.path.join(work, "r16.pdf")
    status, out, err = cli("report", "--db", db16, "--port", port, "--technician", "Li Wei",
                           "--customer", "Acme Solar", "--site", "Roof cabinet 2",
                           "--out", out16)
    tap.ok(status == 0 and os.path.getsize(out16) > 10000, "report writes the PDF", err)
    pages, _ = check_pdf_basics(out16, "16 cells")
    text = pdf_text(out16)
    tap.ok("PWSIM001" in text, "the device id is in the text")
    missing = [s for s in SECTIONS_EN if not re.search(r"^\f?\d+\s+" + re.escape(s) + r"\s*$",
                                                        text, re.M)]
    tap.ok(not missing, "every section title is there, numbered", f"missing: {missing}")
    order = [text.find(s + "\n") for s in SECTIONS_EN]
    tap.ok(order == sorted(order), "the sections come in the issue's order", order)
    tap.ok("16 cells" in text, "the cell count is there")
    tap.ok("No current steps in this range" in text and "Resistance" not in text,
           "a sample a minute: cell health says why it has no figures, no table of dashes")
    cell5 = re.search(r"^\s*5\s+3\.456\s+3\.456\s+3\.456\s+3\.456\s*$", text, re.M)
    tap.ok(cell5, "cell 5 reads 3.456 V last, min, max and mean", text[:3000])
    tap.ok(all(s in text for s in ("Li Wei", "Acme Solar", "Roof cabinet 2")),
           "technician, customer and site are printed")
    recovery = [line for line in text.splitlines() if line.strip().startswith("Charge recovery")]
    tap.ok(recovery and "3500 mV" in recovery[0] and "3550 mV" in recovery[0]
           and "≠" in recovery[0], "the changed parameter is marked against its preset", recovery)
    same = [line for line in text.splitlines() if line.strip().startswith("Charge protection (level 1)")]
    tap.ok(same and "≠" not in same[0], "an unchanged parameter is not marked", same)
    tap.ok(re.search(r"1 of \d+ parameters differ", text), "the difference is counted")
    tap.ok("Cell over-voltage" in text and "3652 mV" in text and "3650 mV" in text,
           "the alarm is listed with its value and limit")
    tap.ok("Firmware update" in text and "3650 → 3600" in text,
           "the audit lists the firmware update and the write")
    tap.ok("BT · iron phosphate" in text, "the manufacturer id is decoded")
    tap.ok(f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
           and "Packwatch 0.1.0" in text, "every page has its footer", pages)
    tap.ok("123456" not in text, "the parameter password stays off paper")
    shutil.copy(out16, os.path.join(work, "keep.pdf"))

    # Without the board: the history alone, and it says what is missing.
    out_nob = os.path.join(work, "nob.pdf")
    status, _, err = cli("report", "--db", db16, "--out", out_nob)
    text = pdf_text(out_nob)
    tap.ok(status == 0 and "The history holds no identity of this board" in text
           and "Not in the history up to the end of the range" in text,
           "a history recorded without the board's settings: the report says they are missing",
           err)

    # A history recorded by `packwatch-cli log` keeps the board's identity
    # and settings: a report from it alone (the board far away) has them.
    dblog = os.path.join(work, "logged.db")
    status, _, err = cli("log", "--port", port, "--db", dblog, "--interval", "0.2",
                         "--duration", "1.5")
    tap.ok(status == 0, "log records the simulated board", err)
    status, _, err = cli("write", "--port", port, "--password", "123456",
                         "cell_ovp_recovery_mv=3450")
    tap.ok(status == 0, "then the board's charge recovery changes to 3450 mV", err)
    out_db = os.path.join(work, "db-only.pdf")
    status, _, err = cli("report", "--db", dblog, "--out", out_db)
    text = pdf_text(out_db)
    tap.ok(status == 0 and "PWSIM_S1.0.0" in text, "--db alone: the firmware version is there",
           err + text[:2000])
    tap.ok(re.search(r"Chemistry\s+Lithium iron phosphate \(LFP\)", text),
           "--db alone: the chemistry is there", text[:2000])
    tap.ok("from the history, as recorded on" in text, "--db alone: it says where they come from")
    recovery = [line for line in text.splitlines() if line.strip().startswith("Charge recovery")]
    tap.ok(recovery and "3500 mV" in recovery[0] and "3550 mV" in recovery[0]
           and "≠" in recovery[0], "--db alone: the parameter as logged, marked against its preset",
           recovery)
    tap.ok(re.search(r"1 of \d+ parameters differ", text), "--db alone: the difference is counted")
    tap.ok("The history holds no identity" not in text and "123456" not in text,
           "--db alone: nothing said missing, the password not printed")
    out_live = os.path.join(work, "live.pdf")
    status, _, err = cli("report", "--db", dblog, "--port", port, "--out", out_live)
    text = pdf_text(out_live)
    recovery = [line for line in text.splitlines() if line.strip().startswith("Charge recovery")]
    tap.ok(status == 0 and recovery and "3450 mV" in recovery[0]
           and "read from the connected board" in text,
           "with --port the live board wins over the history", err + str(recovery))
    status, _, err = cli("write", "--port", port, "--password", "123456",
                         "cell_ovp_recovery_mv=3500")

    # Chinese, following the language.
    mo = os.path.join(BUILD, "po", "zh_CN", "LC_MESSAGES", "packwatch.mo")
    if os.path.exists(mo):
        env = dict(os.environ, LANGUAGE="zh_CN", LANG="C.UTF-8", LC_ALL="C.UTF-8")
        out_zh = os.path.join(work, "zh.pdf")
        status, _, err = cli("report", "--db", db16, "--port", port, "--out", out_zh, env=env)
        tap.ok(status == 0, "LANGUAGE=zh_CN: the report is written", err)
        _, fonts = check_pdf_basics(out_zh, "Chinese")
        text = pdf_text(out_zh)
        missing = [s for s in SECTIONS_ZH
                   if not re.search(r"^\f?\d+\s+" + re.escape(s) + r"\s*$", text, re.M)]
        tap.ok(not missing, "the Chinese section titles are there", f"missing: {missing}")
        tap.ok("服务报告" in text and "Service report" not in text, "the title is Chinese")
        tap.ok(any("WenQuanYi" in f or "Noto" in f for f in fonts),
               "a CJK font is embedded for the Chinese text", "\n".join(fonts))
    else:
        tap.ok(True, "# SKIP no zh_CN catalogue in the build tree")

    # A board that is not the history's device is refused, not mixed in.
    other = os.path.join(work, "other.db")
    keep_other = os.path.join(work, "o.pdf")
    run([MAKE, other, "--device-id", "OTHER42", "--hours", "2"], timeout=60)
    status, _, err = cli("report", "--db", other, "--port", port, "--out", keep_other)
    tap.ok(status == 1 and "id:PWSIM001 has no samples" in err and "id:OTHER42" in err,
           "the connected board has no history here: the error lists the devices that do", err)
    status, _, err = cli("report", "--db", other, "--device", "id:OTHER42", "--port", port,
                         "--out", keep_other)
    tap.ok(status == 1 and "The connected board is id:PWSIM001, not id:OTHER42" in err,
           "--device and a different board on --port: refused", err)
    tap.ok(not os.path.exists(keep_other), "and nothing is written")
    stop_sim()

    # Bad arguments: a clear error, and an earlier report stays as it was.
    keep = os.path.join(work, "keep.pdf")
    before = open(keep, "rb").read()
    status, _, err = cli("report", "--db", db16)
    tap.ok(status == 2 and "--out" in err, "no --out: usage error naming it", err)
    status, _, err = cli("report", "--db", db16, "--out", os.path.join(work, "no", "such", "r.pdf"))
    tap.ok(status == 1 and "Cannot write the report" in err and "no/such" in err,
           "a folder that does not exist: the error says where", err)
    status, _, err = cli("report", "--db", db16, "--device", "nosuch", "--out", keep)
    tap.ok(status == 2 and "nosuch" in err, "an unknown device: usage error naming it", err)
    status, _, err = cli("report", "--db", db16, "--from", "2020-01-01", "--to", "2020-01-02",
                         "--out", keep)
    tap.ok(status == 1 and "No samples of id:PWSIM001" in err and "its history runs from" in err,
           "an empty range: the error says where the history is", err)
    status, _, err = cli("report", "--db", db16, "--from", "2026-02-01", "--to", "2026-01-01",
                         "--out", keep)
    tap.ok(status == 2 and "--from is after --to" in err, "a range backwards: usage error", err)
    status, _, err = cli("report", "--db", os.path.join(work, "none.db"), "--out", keep)
    tap.ok(status != 0 and "none.db" in err, "a missing database: the error names it", err)
    tap.ok(open(keep, "rb").read() == before, "the earlier report is untouched by every failure")
    leftovers = [f for f in os.listdir(work) if f.startswith(".")]
    tap.ok(not leftovers, "no temporary file is left behind", leftovers)

    # A 256-cell master stays readable: a table per module, few pages.
    db256 = os.path.join(work, "h256.db")
    status, _, err = run([MAKE, db256, "--modules", "16", "--mark-cell", "200:3321"], timeout=120)
    port = start_sim("--modules", "16")
    out256 = os.path.join(work, "r256.pdf")
    status, _, err = cli("report", "--db", db256, "--port", port, "--out", out256, timeout=120)
    stop_sim()
    tap.ok(status == 0, "the 256-cell report is written", err)
    pages, _ = check_pdf_basics(out256, "256 cells")
    text = pdf_text(out256)
    tap.ok("256 cells in 16 modules" in text, "the master's cells and modules are counted")
    tap.ok(all(f"Module {m} · cells {16 * m - 15}–{16 * m}" in text for m in range(1, 17)),
           "the cells are grouped under their 16 modules")
    tap.ok(re.search(r"\b200\s+3\.321\s+3\.321\s+3\.321\s+3\.321\b", text),
           "cell 200 reads 3.321 V")
    tap.ok(pages <= 8, f"256 cells fit in {pages} pages")

    # Cell health: 8 cells, cell 3 of 1.6 times the resistance.
    dbh = os.path.join(work, "health8.db")
    status, _, err = run([MAKE_HEALTH, dbh, "synth:weak", "2", "8", "23", "3", "1.6"], timeout=120)
    outh = os.path.join(work, "health8.pdf")
    status, _, err = cli("report", "--db", dbh, "--out", outh, timeout=120)
    text = pdf_text(outh)
    health = text[text.find("Cell health\n"):text.find("Alarms\n")]
    tap.ok(status == 0 and re.search(r"\(\d+ current steps\)", health),
           "cell health: the steps the estimate used are said", err + health)
    tap.ok(re.search(r"^\s*3\s+1\.\d × the median resistance over \d+ current steps", health, re.M),
           "cell health: the weak cell is the suspect, with its reason", health)
    rows = re.findall(r"^\s*(\d+)\s+(\d+\.\d\d) mΩ\s+(\d+)\s+([-+]\d+\.\d %|—)", health, re.M)
    tap.ok([int(r[0]) for r in rows] == list(range(1, 9)), "cell health: every cell of 8 is listed",
           health)
    r3 = [float(r[1]) for r in rows if r[0] == "3"]
    others = sorted(float(r[1]) for r in rows if r[0] != "3")
    tap.ok(r3 and others and r3[0] > 1.3 * others[len(others) // 2],
           "cell health: cell 3's resistance stands out from the median", rows)
    tap.ok(re.search(r"^\s*3\s+\d+\.\d\d mΩ.*!\s*$", health, re.M),
           "cell health: the suspect's row is marked", health)

    # 256 cells: the suspects and the extremes, not 256 rows.
    dbh = os.path.join(work, "health256.db")
    status, _, err = run([MAKE_HEALTH, dbh, "synth:big", "0.5", "256", "23", "200", "1.8"],
                         timeout=150)
    outh = os.path.join(work, "health256.pdf")
    status, _, err = cli("report", "--db", dbh, "--out", outh, timeout=120)
    text = pdf_text(outh)
    health = text[text.find("Cell health\n"):text.find("Alarms\n")]
    rows = re.findall(r"^\s*(\d+)\s+(\d+\.\d\d) mΩ", health, re.M)
    tap.ok(status == 0 and "256 cells: listed are the suspects and the 5 cells" in health
           and 10 <= len(rows) <= 11 + health.count("median resistance"),
           f"cell health of 256 cells: {len(rows)} rows, the suspects and the extremes", health)
    tap.ok(re.search(r"^\s*200\s+1\.\d × the median resistance", health, re.M)
           and "200" in [r[0] for r in rows], "cell health of 256 cells: cell 200 suspected, listed",
           health)
finally:
    stop_sim()
    shutil.rmtree(work, ignore_errors=True)
tap.done()
