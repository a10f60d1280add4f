#!/usr/bin/python3
"""`packwatch --help` shows the options a newcomer needs (they used to hide
under --help-all), and a bad value is refused with the choices.

usage: test-app-help.py PATH-TO-packwatch"""
import re
import sys

from taplib import Tap, run

APP = sys.argv[1]
tap = Tap()

status, out, err = run([APP, "--help"])
tap.ok(status == 0, "packwatch --help exits 0 (no display needed)", err)
for option in ("--demo", "--port=PORT", "--baud=B", "--address=A", "--page=NAME",
               "--screenshot=FILE"):
    # "  -p, --port=PORT   …": the option, after its short form if any
    tap.ok(any(re.match(r"(-\w, )?" + re.escape(option), line.strip())
               for line in out.splitlines()),
           f"--help lists {option}", out)
tap.ok("graph" in out and "dload" in out, "--help names the pages --page takes", out)

status, out, err = run([APP, "--page=nonsense"])
tap.ok(status != 0 and "nonsense" in err and "monitor" in err,
       "--page=nonsense fails naming the pages", f"status {status}\n{err}")
status, out, err = run([APP, "--demo=nonsense"])
tap.ok(status != 0 and "--demo=master" in err,
       "--demo=nonsense fails saying what --demo takes", f"status {status}\n{err}")
status, out, err = run([APP, "--help"])
tap.ok("tcp://HOST:PORT" in out and "replay:FILE" in out,
       "--help names the port forms --port takes", out)
status, out, err = run([APP, "--port=ttyUSB0"])
tap.ok(status != 0 and "tcp://host:port" in err and "/dev/ttyS1" in err,
       "--port=ttyUSB0 fails saying which ports are accepted", f"status {status}\n{err}")
status, out, err = run([APP, "--port=sim://", "--baud=1234"])
tap.ok(status != 0 and "19200" in err, "--baud=1234 fails naming the rates",
       f"status {status}\n{err}")
tap.done()
