#!/usr/bin/python3
"""A hostile peer for the link tests: a TCP server on 127.0.0.1 that stands
where an RS485 gateway would and does everything a board should not.

    python3 hostile_peer.py MODE [PORT]     serves until killed; prints tcp://127.0.0.1:PORT

or, from a test, `with HostilePeer("nw-50ms") as peer: … peer.uri …`.

Every connection gets the mode from its start. Requests from the client are
read and parsed all the time (a peer that stops reading would make the
client's writes block instead of its reads). The modes:

  garbage         random bytes, 64 every 10 ms, whatever is asked
  nw-50ms         "NW" every 50 ms (a floating line making start bytes)
  nw-flood        "NW" as fast as the connection takes it
  zero-flood      zero bytes as fast as the connection takes it
  byte-per-second a good reply to each request, one byte a second
  truncated       the first half of a good reply to each request
  length-ffff     "NW FF FF" and garbage after each request
  bad-checksum    a good reply with its checksum off by one
  other-command   a good frame, but for another command
  other-address   a good reply naming board 7 in its terminal field
  good-then-noisy answers the first request well, then "NW" every 50 ms
  silent          accepts, reads, never answers
  reset           half a reply to the first request, then a TCP reset
"""
import os
import random
import socket
import struct
import sys
import threading
import time

MODES = ["garbage", "nw-50ms", "nw-flood", "zero-flood", "byte-per-second", "truncated",
         "length-ffff", "bad-checksum", "other-command", "other-address", "good-then-noisy",
         "silent", "reset"]

CMD_ACTIVATE = 0x01
CMD_READ = 0x03
CMD_PASSWORD = 0x05
CMD_READ_ALL = 0x06


def nw_frame(command, info, terminal=0, source=0, transport=1):
    """An NW frame with a correct length and checksum."""
    body = bytes([command, source, transport]) + bytes(info) + b"\x00\x00\x00\x00\x68"
    length = 2 + 4 + len(body) + 4
    data = b"NW" + length.to_bytes(2, "big") + terminal.to_bytes(4, "big") + body
    return data + b"\x00\x00" + (sum(data) & 0xFFFF).to_bytes(2, "big")


def _vector_info():
    """The info field of the published 14-cell read-all reply (tests/data)."""
    root = os.environ.get("PACKWATCH_SOURCE_ROOT",
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    with open(os.path.join(root, "tests", "data", "nw-readall-14s.hex"), encoding="ascii") as f:
        frame = bytes.fromhex(f.read())
    return frame[11:-9]


READ_ALL_INFO = _vector_info()


def good_reply(command, info):
    """What a board would answer to a request (command, info)."""
    if command in (CMD_READ_ALL, CMD_READ):
        return nw_frame(command, READ_ALL_INFO)
    # password and write: the id and "accepted"
    return nw_frame(command, bytes([info[0] if info else 0, 0]))


class RequestReader:
    """Finds the client's requests in the bytes it sends."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data
        requests = []
        while True:
            start = self.buf.find(b"NW")
            if start < 0:
                self.buf = self.buf[-1:]
                return requests
            self.buf = self.buf[start:]
            if len(self.buf) < 4:
                return requests
            total = struct.unpack(">H", self.buf[2:4])[0] + 2
            if total < 20 or total > 4096:
                self.buf = self.buf[1:]
                continue
            if len(self.buf) < total:
                return requests
            frame, self.buf = self.buf[:total], self.buf[total:]
            if frame[8] != CMD_ACTIVATE:
                requests.append((frame[8], frame[11:total - 9]))


class Connection:
    def __init__(self, sock, mode, stop, heard):
        self.sock = sock
        self.mode = mode
        self.stop = stop
        self.heard = heard
        self.reader = RequestReader()
        self.answered = 0
        self.random = random.Random(1)

    def requests(self, wait):
        """Requests that arrived within wait seconds; None when the client left."""
        self.sock.settimeout(max(wait, 0.001))
        try:
            data = self.sock.recv(4096)
        except (socket.timeout, BlockingIOError):
            return []
        except OSError:
            return None
        if not data:
            return None
        self.heard.set()
        return self.reader.feed(data)

    def send(self, data):
        self.sock.settimeout(1.0)
        self.sock.sendall(data)

    def flood(self, chunk):
        """Sends chunk as fast as the connection takes it; keeps reading."""
        self.sock.setblocking(False)
        while not self.stop.is_set():
            try:
                while self.sock.recv(4096):
                    self.heard.set()
                return  # the client left
            except BlockingIOError:
                pass
            try:
                self.sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.001)

    def every(self, period, make):
        """Sends make() every period seconds, reading requests in between."""
        next_time = time.monotonic()
        while not self.stop.is_set():
            next_time += period
            if self.requests(max(0.0, next_time - time.monotonic())) is None:
                return
            self.send(make())

    def per_request(self, answer):
        """Answers each request with answer(command, info) (bytes or None)."""
        while not self.stop.is_set():
            requests = self.requests(0.1)
            if requests is None:
                return
            for command, info in requests:
                data = answer(command, info)
                if data:
                    self.send(data)

    def run(self):
        mode = self.mode
        if mode == "garbage":
            self.every(0.01, lambda: bytes(self.random.randrange(256) for _ in range(64)))
        elif mode == "nw-50ms":
            self.every(0.05, lambda: b"NW")
        elif mode == "nw-flood":
            self.flood(b"NW" * 2048)
        elif mode == "zero-flood":
            self.flood(bytes(4096))
        elif mode == "byte-per-second":
            self.trickle()
        elif mode == "truncated":
            self.per_request(lambda c, i: good_reply(c, i)[:len(good_reply(c, i)) // 2])
        elif mode == "length-ffff":
            self.per_request(lambda c, i: b"NW\xff\xff" + bytes(range(0x10, 0x40)))
        elif mode == "bad-checksum":
            self.per_request(lambda c, i: good_reply(c, i)[:-1]
                             + bytes([(good_reply(c, i)[-1] + 1) & 0xFF]))
        elif mode == "other-command":
            self.per_request(lambda c, i: nw_frame(0x07 if c != 0x07 else 0x08, READ_ALL_INFO))
        elif mode == "other-address":
            self.per_request(lambda c, i: nw_frame(c, good_reply(c, i)[11:-9], terminal=7))
        elif mode == "good-then-noisy":
            self.good_then_noisy()
        elif mode == "silent":
            self.per_request(lambda c, i: None)
        elif mode == "reset":
            self.reset_mid_frame()
        else:
            raise ValueError(f"unknown mode {mode}")

    def trickle(self):
        pending = b""
        while not self.stop.is_set():
            requests = self.requests(1.0 if pending else 0.1)
            if requests is None:
                return
            for command, info in requests:
                pending += good_reply(command, info)
            if pending:
                self.send(pending[:1])
                pending = pending[1:]

    def good_then_noisy(self):
        while not self.stop.is_set():
            requests = self.requests(0.1)
            if requests is None:
                return
            if requests:
                command, info = requests[0]
                self.send(good_reply(command, info))
                break
        self.every(0.05, lambda: b"NW")

    def reset_mid_frame(self):
        while not self.stop.is_set():
            requests = self.requests(0.1)
            if requests is None:
                return
            if requests:
                reply = good_reply(*requests[0])
                self.send(reply[:len(reply) // 2])
                time.sleep(0.05)
                # SO_LINGER with a zero timeout: close() sends a reset.
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
                return


class HostilePeer:
    """Serves one mode on 127.0.0.1 (a free port unless given)."""

    def __init__(self, mode, port=0):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode}; one of {', '.join(MODES)}")
        self.mode = mode
        self.stop = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.uri = f"tcp://127.0.0.1:{self.port}"
        self.connections = 0
        self.heard = threading.Event()   # set once the client has sent something
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self.stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(sock,), daemon=True).start()

    def _handle(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            Connection(sock, self.mode, self.stop, self.heard).run()
        except OSError:
            pass  # the client went away mid-send
        finally:
            sock.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.listener.close()


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in MODES:
        sys.exit(f"usage: hostile_peer.py MODE [PORT]\nmodes: {' '.join(MODES)}")
    with HostilePeer(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0) as peer:
        print(peer.uri, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
