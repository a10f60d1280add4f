#!/usr/bin/python3
"""The Flatpak manifest parses, pins every archive by sha256, and each of its
finish-args is justified in docs/packaging.md."""
import json
import sys
import os

os.chdir(sys.argv[1] if len(sys.argv) > 1 else ".")
with open("flatpak/io.github.packwatch.Packwatch.json") as f:
    manifest = json.load(f)
with open("docs/packaging.md") as f:
    doc = f.read()
problems = []
if manifest.get("id") != "io.github.packwatch.Packwatch":
    problems.append("id is not io.github.packwatch.Packwatch")
for arg in manifest.get("finish-args", []):
    if f"`{arg}`" not in doc:
        problems.append(f"finish-arg {arg} is not justified in docs/packaging.md")
names = [m["name"] for m in manifest["modules"]]
for needed in ("libserialport", "libxlsxwriter", "packwatch"):
    if needed not in names:
        problems.append(f"module {needed} missing")
for module in manifest["modules"]:
    for src in module.get("sources", []):
        if src.get("type") == "archive" and len(src.get("sha256", "")) != 64:
            problems.append(f"{module['name']}: archive without sha256")
print("1..1")
for p in problems:
    print("# " + p)
print(("not ok" if problems else "ok") + " 1 - flatpak manifest")
sys.exit(1 if problems else 0)
