"""A tiny TAP producer for the packwatch-cli tests (meson protocol: 'tap').

    tap = Tap()
    tap.ok(cond, "what was checked", "diagnostic shown when it fails")
    tap.done()   # prints the plan, exits 1 if anything failed
"""
import json
import os
import subprocess
import sys


class Tap:
    def __init__(self):
        self.count = 0
        self.failed = 0

    def ok(self, condition, description, diagnostic=""):
        self.count += 1
        if condition:
            print(f"ok {self.count} - {description}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.count} - {description}", flush=True)
            for line in str(diagnostic).splitlines():
                print(f"# {line}", flush=True)
        return bool(condition)

    def diag(self, text):
        for line in str(text).splitlines():
            print(f"# {line}", flush=True)

    def bail(self, reason):
        print(f"Bail out! {reason}", flush=True)
        sys.exit(1)

    def done(self):
        print(f"1..{self.count}", flush=True)
        sys.exit(1 if self.failed else 0)


def valgrind_prefix(program):
    """Under `meson test --setup=valgrind` (PACKWATCH_VALGRIND=1) the CLI
    itself runs under memcheck too; an error or a definite leak makes it
    exit 99, which no test accepts."""
    if not os.environ.get("PACKWATCH_VALGRIND") or not program.endswith("packwatch-cli"):
        return []
    root = os.environ.get("PACKWATCH_SOURCE_ROOT", ".")
    return ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
            "--suppressions=/usr/share/glib-2.0/valgrind/glib.supp",
            "--suppressions=" + os.path.join(root, "tests", "valgrind.supp")]


def run(argv, stdin_text=None, timeout=30):
    """Runs a command; returns (exit status, stdout, stderr)."""
    argv = valgrind_prefix(argv[0]) + list(argv)
    p = subprocess.run(argv, input=stdin_text, capture_output=True, text=True,
                       timeout=timeout * (10 if os.environ.get("PACKWATCH_VALGRIND") else 1))
    return p.returncode, p.stdout, p.stderr


def json_lines(text):
    """Parses one JSON object per non-empty line; raises on invalid JSON."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def vectors_dir():
    """The shared test vectors (PACKWATCH_SHARED/vectors); a checkout without
    ../shared (CI) uses the copies in tests/cli/vectors/."""
    shared = os.environ.get("PACKWATCH_SHARED")
    if shared and os.path.isfile(os.path.join(shared, "vectors", "nw-readall-14s.hex")):
        return os.path.join(shared, "vectors")
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors")


def nw_frame(command, source, transport, info, terminal=0, record=0):
    """Builds an NW frame (bytes) with a correct length and checksum."""
    body = bytes([command, source, transport]) + bytes(info) + record.to_bytes(4, "big") + b"\x68"
    length = 2 + 4 + len(body) + 4
    data = b"NW" + length.to_bytes(2, "big") + terminal.to_bytes(4, "big") + body
    return data + b"\x00\x00" + (sum(data) & 0xFFFF).to_bytes(2, "big")


def with_checksum(frame_bytes):
    """The frame with its last four bytes replaced by a correct checksum."""
    data = bytes(frame_bytes[:-4])
    return data + b"\x00\x00" + (sum(data) & 0xFFFF).to_bytes(2, "big")


def hexline(data, sep=" "):
    return sep.join(f"{b:02X}" for b in data)
