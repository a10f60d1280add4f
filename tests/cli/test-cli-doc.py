#!/usr/bin/python3
"""Keeps docs/cli.md in step with packwatch-cli: every subcommand of
src/cli/cli-commands.h has a `## NAME` section in docs/cli.md, and every
long option its help prints (`packwatch-cli NAME --help-all`, which adds the
connection options to `--help`; for a command with actions such as
`profile save|load`, each action's help) is named in that section.

usage: test-cli-doc.py PATH-TO-packwatch-cli"""
import os
import re
import sys

from taplib import Tap, run

CLI = sys.argv[1]
ROOT = os.environ.get("PACKWATCH_SOURCE_ROOT",
                      os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
tap = Tap()

with open(os.path.join(ROOT, "src", "cli", "cli-commands.h"), encoding="utf-8") as f:
    commands = re.findall(r"^CLI_COMMAND\s*\(\s*(\w+)\s*,", f.read(), re.MULTILINE)
with open(os.path.join(ROOT, "docs", "cli.md"), encoding="utf-8") as f:
    doc = f.read()

tap.ok(len(commands) >= 5, f"cli-commands.h lists {len(commands)} subcommands", commands)

# "## name" up to the next "## " heading (### subsections belong to it).
sections = {}
for m in re.finditer(r"^## (\S+)[^\n]*\n(.*?)(?=^## |\Z)", doc, re.MULTILINE | re.DOTALL):
    sections[m.group(1)] = m.group(2)

# GLib's own help options, not the command's.
HELP_OPTIONS = {"--help", "--help-all"}


def long_options(help_text):
    """The long options a GOptionContext help lists (lines starting with
    `-x, --name` or `--name`)."""
    found = []
    for line in help_text.splitlines():
        m = re.match(r"\s+(?:-\w, )?(--[\w-]+)", line)
        if m and m.group(1) not in HELP_OPTIONS and not m.group(1).startswith("--help-"):
            found.append(m.group(1))
    return found


def actions(command, help_text):
    """`packwatch-cli profile save …` usage lines: the command's actions."""
    return sorted(set(re.findall(rf"packwatch-cli {command} ([a-z][\w-]*)\b", help_text)))


for command in commands:
    section = sections.get(command)
    if not tap.ok(section is not None, f"docs/cli.md has a '## {command}' section",
                  f"sections: {sorted(sections)}"):
        continue
    status, out, err = run([CLI, command, "--help"])
    tap.ok(status == 0 and f"packwatch-cli {command}" in out, f"{command} --help", f"{status} {err}")
    helps = []
    if "Help Options" not in out and actions(command, out):
        # Not a GOptionContext help but a list of actions: each has its own.
        for action in actions(command, out):
            a_status, a_out, a_err = run([CLI, command, action, "--help-all"])
            tap.ok(a_status == 0 and "Help Options" in a_out, f"{command} {action} --help-all",
                   f"{a_status} {a_err}")
            helps.append(a_out)
    else:
        a_status, a_out, a_err = run([CLI, command, "--help-all"])
        tap.ok(a_status == 0 and "Help Options" in a_out, f"{command} --help-all",
               f"{a_status} {a_err}")
        helps += [out, a_out]
    options = sorted(set(o for h in helps for o in long_options(h)))
    # A whole word: --db must not be satisfied by --dbx, --to by --total.
    missing = [o for o in options if not re.search(re.escape(o) + r"(?![\w-])", section)]
    tap.ok(not missing,
           f"## {command} names its {len(options)} options",
           f"missing from the '## {command}' section of docs/cli.md: {' '.join(missing)}")

tap.done()
