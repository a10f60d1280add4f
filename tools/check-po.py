#!/usr/bin/python3
"""Translation checks, run as a test.

1. Every source file with user-visible text (_( , N_( , C_( , translatable="yes",
   or a desktop/metainfo/schema file) is listed in po/POTFILES.in, and every
   listed file exists.
2. Each catalogue in po/LINGUAS is complete against the current sources: after
   merging a freshly extracted template, no message is untranslated or fuzzy.

On failure it says which file or how many messages, and how to fix it."""
import os
import re
import subprocess
import sys
import tempfile

root = sys.argv[1] if len(sys.argv) > 1 else "."
os.chdir(root)
failed = False

listed = []
with open("po/POTFILES.in") as f:
    for line in f:
        line = line.strip()
        if line and not line.startswith("#"):
            listed.append(line)

marker = re.compile(r'(\b_\(|\bN_\(|\bC_\(|\bNC_\(|\bngettext\s*\(|translatable="yes")')
needed = []
for top in ("src", "data"):
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(dirpath, name)
            if name.endswith((".desktop.in", ".metainfo.xml.in", ".gschema.xml")):
                needed.append(path)
            elif name.endswith((".c", ".ui", ".h")):
                with open(path, encoding="utf-8", errors="replace") as fh:
                    if marker.search(fh.read()):
                        needed.append(path)

for path in sorted(set(needed) - set(listed)):
    print(f"not ok: {path} has translatable text but is missing from po/POTFILES.in "
          f"(add the line '{path}')")
    failed = True
for path in listed:
    if not os.path.exists(path):
        print(f"not ok: po/POTFILES.in lists {path}, which does not exist (remove the line)")
        failed = True

linguas = []
if os.path.exists("po/LINGUAS"):
    with open("po/LINGUAS") as f:
        linguas = [w for line in f for w in line.split() if not line.startswith("#")]

if listed and linguas and not failed:
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, "packwatch.pot")
        subprocess.run(["xgettext", "--from-code=UTF-8", "--add-comments",
                        "--keyword=_", "--keyword=N_", "--keyword=C_:1c,2",
                        "--keyword=NC_:1c,2", "--keyword=g_dngettext:2,3",
                        "-f", "po/POTFILES.in", "-o", pot], check=True)
        for lang in linguas:
            po = f"po/{lang}.po"
            if not os.path.exists(po):
                print(f"not ok: po/LINGUAS names {lang} but {po} does not exist")
                failed = True
                continue
            merged = os.path.join(tmp, f"{lang}.po")
            subprocess.run(["msgmerge", "--quiet", "--no-fuzzy-matching", "-o", merged, po, pot],
                           check=True)
            stats = subprocess.run(["msgfmt", "--check", "--statistics", "-o", os.devnull, merged],
                                   capture_output=True, text=True)
            text = stats.stderr.strip()
            if stats.returncode != 0:
                print(f"not ok: {po} does not compile: {text}")
                failed = True
            elif "untranslated" in text or "fuzzy" in text:
                print(f"not ok: {po} is stale: {text}. Run 'ninja -C _build packwatch-update-po' "
                      f"and translate the new messages")
                failed = True
            else:
                print(f"ok: {po}: {text}")

print("1..1")
print("not ok 1 - translations" if failed else "ok 1 - translations")
sys.exit(1 if failed else 0)
