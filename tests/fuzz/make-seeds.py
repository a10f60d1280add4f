#!/usr/bin/python3
"""Writes the seed corpus of fuzz-frame-parser into corpus-frame/.

Seeds are valid frames of every command word (from the shared test vectors
and built here), a 256-cell reply using the 0xD0 extension, and the classic
broken cases, so the fuzzer starts from inputs that reach deep into the
codec. Re-run after changing it:  tests/fuzz/make-seeds.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus-frame")
SHARED = os.environ.get("PACKWATCH_SHARED", os.path.join(HERE, "..", "..", "..", "shared"))


def frame(command, source, transport, info, terminal=0, record=0):
    body = bytes([command, source, transport]) + bytes(info) + record.to_bytes(4, "big") + b"\x68"
    length = 2 + 4 + len(body) + 4  # length field counts itself, terminal, body and checksum
    head = b"NW" + length.to_bytes(2, "big") + terminal.to_bytes(4, "big")
    data = head + body
    return data + b"\x00\x00" + (sum(data) & 0xFFFF).to_bytes(2, "big")


def cells_reply(n):
    info = bytearray()
    first = min(n, 85)
    info += bytes([0x79, 3 * first])
    for i in range(first):
        info += bytes([i + 1]) + (3300 + i % 7).to_bytes(2, "big")
    rest = n - first
    if rest > 0:
        info += bytes([0xD0]) + (2 * rest).to_bytes(2, "big")
        for i in range(rest):
            info += (3290 + i % 11).to_bytes(2, "big")
    info += bytes([0x83]) + (n * 330 // 10).to_bytes(2, "big")
    info += bytes([0x84, 0x80, 0xD0, 0x85, 0x3C, 0x8A]) + n.to_bytes(2, "big")
    info += bytes([0xC0, 0x01])
    return frame(0x06, 0, 1, info)


def vector(name):
    with open(os.path.join(SHARED, "vectors", name)) as f:
        return bytes.fromhex(f.readline())


def main():
    os.makedirs(OUT, exist_ok=True)
    reply14 = vector("nw-readall-14s.hex")
    seeds = {
        "request-read-all": vector("nw-request-readall.hex"),
        "reply-14s": reply14,
        "reply-16s": cells_reply(16),
        "reply-256s": cells_reply(256),
        "request-read-one": frame(0x03, 3, 0, [0x90], terminal=1),
        "request-activate": frame(0x01, 3, 0, [], terminal=1),
        "request-write-cell-ovp": frame(0x02, 3, 0, [0x90, 0x0E, 0x42], terminal=1),
        "request-password": frame(0x05, 3, 0, [0xB2] + list(b"123456\0\0\0\0"), terminal=1),
        "reply-write-ok": frame(0x02, 0, 1, [0x90, 0x00]),
        "reply-password-denied": frame(0x05, 0, 1, [0xB2, 0x01]),
        "two-frames-with-garbage": b"\x00\xff\x4e" + reply14 + b"\x13\x37" + cells_reply(16),
        "bad-checksum": reply14[:-1] + bytes([reply14[-1] ^ 1]),
        "truncated": reply14[:100],
        "no-end-marker": reply14[:-5] + b"\x00" + reply14[-4:],
        "bad-length": b"NW\xff\xff" + reply14[4:],
        "info-only-14s": reply14[11:-9],
    }
    for name, data in seeds.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    sys.exit(main())
