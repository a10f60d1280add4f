#!/usr/bin/python3
"""docs/protocol.md must be exactly what the field catalogue generates:
docs/protocol.md.in (hand-written) with its @FIELD_TABLES@ line replaced by
`packwatch-cli fields --markdown`.

usage: test-protocol-doc.py PATH-TO-packwatch-cli [--update]
  --update rewrites docs/protocol.md (also: ninja -C _build update-protocol-doc)"""
import difflib
import os
import sys

from taplib import Tap, run

CLI = sys.argv[1]
root = os.environ.get("PACKWATCH_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
template = os.path.join(root, "docs", "protocol.md.in")
target = os.path.join(root, "docs", "protocol.md")
status, generated, err = run([CLI, "fields", "--markdown", "--template", template])

if "--update" in sys.argv[2:]:
    if status != 0:
        sys.exit(f"packwatch-cli fields failed: {err}")
    with open(target, "w") as f:
        f.write(generated)
    print(f"wrote {target}")
    sys.exit(0)

tap = Tap()
tap.ok(status == 0 and "@FIELD_TABLES@" not in generated, "fields --markdown --template works", err)
try:
    with open(target) as f:
        current = f.read()
except OSError as e:
    current = ""
    tap.diag(str(e))
diff = "".join(difflib.unified_diff(current.splitlines(True), generated.splitlines(True),
                                    "docs/protocol.md", "generated from the catalogue", n=1))
tap.ok(current == generated,
       "docs/protocol.md matches the field catalogue",
       diff[:4000] + "\nThe catalogue (src/link/bms-field.c) or docs/protocol.md.in changed: "
       "regenerate with\n  ninja -C _build update-protocol-doc\nor\n"
       "  _build/src/packwatch-cli fields --markdown --template docs/protocol.md.in "
       "> docs/protocol.md")
tap.done()
