#!/usr/bin/env python3
"""The build keeps the layers apart (docs/architecture.md).

Each probe is compiled (syntax only) with the exact command the build uses
for a file of one library, taken from compile_commands.json: the ui library
must refuse the session, transport and flasher headers; the model, link
and draw libraries must refuse GTK. Every refusal has a control that compiles, so a
probe cannot pass for an unrelated reason (a wrong path, a missing file).

usage: test-layers.py BUILD_ROOT
"""
import json
import os
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
from taplib import Tap  # noqa: E402

build_root = sys.argv[1]
tap = Tap()

with open(os.path.join(build_root, "compile_commands.json")) as f:
    commands = json.load(f)


def command_for(suffix):
    """The build's command for the source file ending in suffix, without
    its input, output and dependency-file arguments."""
    for entry in commands:
        if entry["file"].replace(os.sep, "/").endswith(suffix):
            args = shlex.split(entry["command"])
            kept = []
            skip = False
            for a in args:
                if skip:
                    skip = False
                    continue
                if a in ("-o", "-MQ", "-MF", "-c"):
                    skip = True
                    continue
                if a == "-MD" or a.endswith(".c"):
                    continue
                kept.append(a)
            return entry["directory"], kept
    raise SystemExit(f"Bail out! no compile command for {suffix}; build first")


def compiles(suffix, source):
    directory, args = command_for(suffix)
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as probe:
        probe.write(source)
    try:
        run = subprocess.run(args + ["-fsyntax-only", probe.name], cwd=directory,
                             capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(probe.name)
    return run.returncode == 0, run.stderr


UI = "src/ui/bms-page.c"
MODEL = "src/model/bms-connection.c"
LINK = "src/link/bms-session.c"
DRAW = "src/draw/bms-graph-painter.c"

ok, err = compiles(UI, '#include "bms-connection.h"\n#include "bms-field.h"\n')
tap.ok(ok, "ui: the connection controller and the field catalogue compile", err)
for header in ("bms-session.h", "bms-transport.h", "bms-flasher.h",
               "bms-serial-transport.h"):
    ok, err = compiles(UI, f'#include "{header}"\n')
    tap.ok(not ok and "go through BmsConnection" in err,
           f"ui: {header} is refused and the error names the road", err)

ok, err = compiles(MODEL, '#include "bms-session.h"\n#include "bms-flasher.h"\n')
tap.ok(ok, "model: the session and the flasher compile (the controller drives them)", err)
ok, err = compiles(UI, '#include <gtk/gtk.h>\n')
tap.ok(ok, "ui: GTK compiles (control for the next two)", err)
for name, suffix in (("model", MODEL), ("link", LINK), ("draw", DRAW)):
    ok, err = compiles(suffix, '#include <gtk/gtk.h>\n')
    tap.ok(not ok and "gtk/gtk.h" in err, f"{name}: GTK is refused", err)
ok, err = compiles(DRAW, '#include <pango/pangocairo.h>\n#include "bms-graph-series.h"\n')
tap.ok(ok, "draw: cairo, Pango and its own headers compile", err)
ok, err = compiles(DRAW, '#include "bms-history.h"\n')
tap.ok(not ok, "draw: the model's headers are out of reach", err)
ok, err = compiles(MODEL, '#include "bms-graph-painter.h"\n')
tap.ok(ok, "model: the graph painter compiles (the report draws with it)", err)
ok, err = compiles(LINK, '#include "bms-history.h"\n')
tap.ok(not ok, "link: the model's headers are out of reach", err)

tap.done()
