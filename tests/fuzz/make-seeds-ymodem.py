#!/usr/bin/env python3
"""Write the hand-made seeds of tests/fuzz/corpus-ymodem/ (see fuzz-ymodem.c
for how an input is read): for each harness a clean run and a few with
trouble in it. Run from anywhere; rewrites only the files named here."""
import os

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "corpus-ymodem")
os.makedirs(out, exist_ok=True)

ACK, NAK, C, CAN = 0, 1, 2, 3            # answers[] in harness A


def a_answer(which, count=1):
    return bytes([2 | which << 2 | (count - 1) << 4])


def sender(size, retries, name_len, ops):
    return bytes([0, size >> 8, size & 0xFF, retries, name_len - 1]) + ops


def bl_packet(kind, *extra):
    return bytes([2, kind]) + bytes(extra)


def bootloader(flash, ops):
    return bytes([1, flash >> 8 & 0xFF, (flash - 1) & 0xFF]) + ops


def wired(size, shape, retries, faults):
    return bytes([2, (size - 1) >> 8, (size - 1) & 0xFF, shape, retries - 3]) + faults


seeds = {}
# A: a clean transfer of 3000 bytes (3 blocks), then EOT NAK/ACK and the close.
clean = a_answer(C) + a_answer(ACK) + a_answer(C) + a_answer(ACK, 3) \
    + a_answer(NAK) + a_answer(ACK) + a_answer(C) + a_answer(ACK)
seeds["sender-clean-3-blocks"] = sender(3000, 10, 6, clean)
seeds["sender-empty-file"] = sender(0, 10, 6, a_answer(C) + a_answer(ACK) + a_answer(C)
                                    + a_answer(NAK) + a_answer(ACK) + a_answer(C) + a_answer(ACK))
seeds["sender-long-name"] = sender(100, 2, 150, clean)
seeds["sender-lost-acks"] = sender(2100, 3, 4, a_answer(C) + a_answer(ACK) + a_answer(C)
                                   + bytes([1]) + a_answer(NAK) + a_answer(ACK) + bytes([1, 1])
                                   + a_answer(NAK, 2) + a_answer(ACK, 2) + a_answer(C) + bytes([1, 1, 1]))
seeds["sender-remote-cancel"] = sender(1500, 10, 6, a_answer(C) + a_answer(ACK) + a_answer(C)
                                       + a_answer(CAN, 2))
seeds["sender-noise-cancel"] = sender(1500, 10, 6, bytes([0x0C]) + b"\x43\x06\x43\x00"
                                      + bytes([0xFF]))
seeds["sender-silent"] = sender(500, 10, 6, bytes([1]))

# B: '1', block 0 declaring exactly the flash size, the data, EOT twice, close.
flash = 2500
blocks = b"".join(bl_packet(0x00) for _ in range(3))
seeds["bootloader-clean"] = bootloader(flash, bytes([0x0D]) + bl_packet(0x31, 0) + blocks
                                       + bytes([3, 3]) + bl_packet(0x71))
seeds["bootloader-bad-crc-dup"] = bootloader(flash, bytes([0x0D]) + bl_packet(0x31, 0)
                                             + bl_packet(0x02) + bl_packet(0x04) + bl_packet(0x00)
                                             + bl_packet(0x08) + bl_packet(0x00) + bl_packet(0x01)
                                             + bytes([3, 3, 3]) + bl_packet(0x00) + bytes([3, 3])
                                             + bl_packet(0x71))
seeds["bootloader-too-big"] = bootloader(flash, bytes([0x0D]) + bl_packet(0x31, 5) + bytes([4, 4]))
seeds["bootloader-ticks-raw"] = bootloader(300, bytes([0x0D, 0x39, 0x39]) + bytes([0x08]) + b"\x01\x00\xff"
                                           + bytes([0x79, 0x01]) + bytes([0x20]) + bytes([0x0D, 4, 4, 0xFD]))
seeds["bootloader-empty-batch"] = bootloader(flash, bytes([0x0D]) + bl_packet(0x71) + bytes([0x05, 0x0D]))

# C: no faults; a flipped bit, a lost byte, a lost chunk; an image too big.
seeds["wired-clean"] = wired(3000, 10, 10, b"")
seeds["wired-faults"] = wired(2100, 3, 10, bytes([0, 0, 0x41, 0, 7, 0, 0x82, 0, 9, 0xE0, 0, 0, 0xE0, 0xE0, 0x43, 1, 0]))
seeds["wired-too-big"] = wired(4000, 0x85, 5, b"")
seeds["wired-all-lost"] = wired(600, 1, 3, bytes([0xE0]) * 64)

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}")
