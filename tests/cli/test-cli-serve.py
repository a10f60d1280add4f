#!/usr/bin/python3
"""packwatch-cli serve against a real broker (Debian's mosquitto, started
here on 127.0.0.1 at a free port, with a password) and two packwatch-sim
boards over TCP: one replaying the vendor's 14-cell reply, one simulated.

Bad configurations are refused with FILE:LINE, exit 2, nothing published
and no database created; the published values are those of `read --json`
of the same board; Home Assistant discovery uses only documented keys and
announces every value; an alarm is published raised and cleared; the
broker is killed and restarted and everything is published again with
nothing crashed; SIGTERM stops within a second, leaving "offline"; the
password never shows in /proc/PID/cmdline. Skipped when mosquitto is not
installed (CI installs it through dev.sh).

usage: test-cli-serve.py PATH-TO-packwatch-cli PATH-TO-packwatch-sim"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import Tap, run  # noqa: E402

CLI, SIM = sys.argv[1], sys.argv[2]
ROOT = os.environ.get("PACKWATCH_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
VENDOR = os.path.join(ROOT, "tests", "data", "nw-readall-14s.hex")
USER, PASSWORD = "packwatch", "s3cret-Pw-17"
CLIENT = "pw-test"

MOSQUITTO = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin:/sbin")
SUB = shutil.which("mosquitto_sub")
PASSWD = shutil.which("mosquitto_passwd")
if not (MOSQUITTO and SUB and PASSWD):
    print("1..0 # SKIP mosquitto and mosquitto-clients are not installed "
          "(./dev.sh test installs them)")
    sys.exit(0)

# Home Assistant's documented configuration variables of MQTT sensors and
# binary sensors and of their device map
# (https://www.home-assistant.io/integrations/sensor.mqtt/,
#  https://www.home-assistant.io/integrations/binary_sensor.mqtt/).
COMMON_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "device", "device_class", "enabled_by_default", "encoding", "entity_category",
    "entity_picture", "expire_after", "force_update", "icon", "json_attributes_template",
    "json_attributes_topic", "name", "object_id", "default_entity_id", "payload_available",
    "payload_not_available", "platform", "qos", "state_topic", "unique_id", "value_template",
    "origin",
}
SENSOR_KEYS = COMMON_KEYS | {"last_reset_value_template", "options", "state_class",
                             "suggested_display_precision", "unit_of_measurement"}
BINARY_KEYS = COMMON_KEYS | {"off_delay", "payload_off", "payload_on"}
DEVICE_KEYS = {"configuration_url", "connections", "hw_version", "identifiers", "manufacturer",
               "model", "model_id", "name", "serial_number", "suggested_area", "sw_version",
               "via_device"}
# Sensor device classes used here and the units Home Assistant accepts for them.
SENSOR_UNITS = {"voltage": {"V", "mV"}, "current": {"A", "mA"}, "power": {"W", "kW"},
                "battery": {"%"}, "temperature": {"°C", "°F", "K"}}
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"battery", "battery_charging", "problem", "power", "running", "safety",
                  "connectivity", "heat", "cold", "plug", "update"}

tap = Tap()
workdir = tempfile.mkdtemp(prefix="packwatch-serve-test-")
children = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """mosquitto on 127.0.0.1:port, no persistence (a restart forgets every
    retained message), password required."""

    def __init__(self):
        self.port = free_port()
        self.passwords = os.path.join(workdir, "broker.passwd")
        subprocess.run([PASSWD, "-b", "-c", self.passwords, USER, PASSWORD], check=True,
                       capture_output=True)
        os.chmod(self.passwords, 0o600)
        self.conf = os.path.join(workdir, "broker.conf")
        with open(self.conf, "w") as f:
            # Started as root, mosquitto would become the user "mosquitto",
            # who cannot read this test's private folder.
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous false\n"
                    f"password_file {self.passwords}\npersistence false\n"
                    f"user {pwd.getpwuid(os.getuid()).pw_name}\n")
        self.proc = None

    def add_tls(self):
        """A second listener with TLS, its certificate for "localhost"
        signed by a CA made here; returns (port, CA file) or None without
        openssl."""
        openssl = shutil.which("openssl")
        if not openssl:
            return None
        ca_key, ca, key, csr, cert = (os.path.join(workdir, n) for n in
                                      ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
        ext = write_config("server.ext", "subjectAltName=DNS:localhost\n")
        steps = [
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
             "-days", "2", "-subj", "/CN=Packwatch test CA"],
            [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
             "-subj", "/CN=localhost"],
            [openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", cert, "-days", "2", "-extfile", ext],
        ]
        for argv in steps:
            if subprocess.run(argv, capture_output=True).returncode != 0:
                return None
        tls_port = free_port()
        with open(self.conf, "a") as f:
            f.write(f"listener {tls_port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n")
        return tls_port, ca

    def start(self):
        log = open(os.path.join(workdir, "broker.log"), "a")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def sub_argv(broker, *topics):
    argv = [SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-u", USER, "-P", PASSWORD, "-v"]
    for t in topics:
        argv += ["-t", t]
    return argv


def retained(broker, *topics, wait=1):
    """The retained messages under topics: {topic: payload}."""
    p = subprocess.run(sub_argv(broker, *topics) + ["--retained-only", "-W", str(wait)],
                       capture_output=True, text=True, timeout=wait + 10)
    out = {}
    for line in p.stdout.splitlines():
        topic, _, payload = line.partition(" ")
        out[topic] = payload
    return out


def wait_retained(broker, topic, want, seconds):
    deadline = time.monotonic() + seconds
    got = None
    while time.monotonic() < deadline:
        got = retained(broker, topic).get(topic)
        if got == want:
            return True
        time.sleep(0.2)
    tap.diag(f"{topic}: {got!r}, waited for {want!r}")
    return False


class Sim:
    def __init__(self, name, *extra):
        self.log = open(os.path.join(workdir, name + ".log"), "w+")
        self.proc = subprocess.Popen([SIM, "--tcp", "0", "--no-wire-timing", *extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        children.append(self.proc)
        self.port = self.proc.stdout.readline().strip()
        if not self.port.startswith("tcp://"):
            tap.bail(f"packwatch-sim did not start: {self.port!r}")


def write_config(name, text):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def serve(config, env=None):
    p = subprocess.Popen([CLI, "serve", "--config", config], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    children.append(p)
    return p


def stderr_until(proc, text, seconds):
    """Reads proc's stderr until a line holds text; returns what was read."""
    seen = []
    deadline = time.monotonic() + seconds
    os.set_blocking(proc.stderr.fileno(), False)
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line:
            seen.append(line)
            if text in line:
                break
        elif proc.poll() is not None:
            break
        else:
            time.sleep(0.05)
    return "".join(seen)


def mqtt_section(broker, extra=""):
    return (f"[MQTT]\nHost=127.0.0.1\nPort={broker.port}\nClientId={CLIENT}\n"
            f"Username={USER}\n{extra}")


def check_bad_configs(broker, board_port):
    db = os.path.join(workdir, "bad.db")
    pwfile = write_config("pw", PASSWORD + "\n")
    good_mqtt = mqtt_section(broker, f"PasswordFile={pwfile}\n")
    serve_group = f"[Serve]\nDatabase={db}\n"
    cases = [
        ("an unknown key", f"[MQTT]\nHost=127.0.0.1\nHots=broker\n[Board a]\nPort={board_port}\n", 3),
        ("a port out of range", f"[MQTT]\nHost=127.0.0.1\nPort=70000\n[Board a]\nPort={board_port}\n", 3),
        ("a board without Port", f"{good_mqtt}{serve_group}\n[Board a]\nAddress=1\n", 10),
        ("one board twice", f"{good_mqtt}{serve_group}[Board a]\nPort={board_port}\n"
                            f"[Board b]\nPort={board_port}\n", 11),
        ("a password without user", f"[MQTT]\nPassword={PASSWORD}\n[Board a]\nPort={board_port}\n", 2),
        ("an interval too short", f"{good_mqtt}[Serve]\nInterval=0.01\n[Board a]\nPort={board_port}\n", 8),
        ("a missing CA file", f"[MQTT]\nCaFile={workdir}/no-such-ca.pem\n[Board a]\nPort={board_port}\n", 2),
        ("a wildcard in the prefix", f"[MQTT]\nPrefix=pack/+/x\n[Board a]\nPort={board_port}\n", 2),
        ("an unknown group", f"{good_mqtt}{serve_group}[Boards a]\nPort={board_port}\n", 9),
        ("no board", f"{good_mqtt}{serve_group}", 8),
    ]
    listener = subprocess.Popen(sub_argv(broker, "#"), stdout=subprocess.PIPE, text=True)
    children.append(listener)
    time.sleep(0.3)
    for what, text, line in cases:
        path = write_config("bad.conf", text)
        status, out, err = run([CLI, "serve", "--config", path], timeout=20)
        tap.ok(status == 2 and f"{path}:{line}: " in err,
               f"{what}: exit 2, says {os.path.basename(path)}:{line}", f"{status}\n{err}")
    status, out, err = run([CLI, "serve"], timeout=20)
    tap.ok(status == 2 and "--config FILE is required" in err, "no --config: exit 2", err)
    time.sleep(0.5)
    listener.terminate()
    published, _ = listener.communicate(timeout=10)
    tap.ok(published == "", "bad configurations publish nothing", published)
    tap.ok(not os.path.exists(db), "bad configurations create no database")


def check_values(state, base, board):
    """Published retained values against `read --json` of the same board."""
    cells = board["cells_mv"]
    want = {
        "pack_voltage": f"{board['pack_voltage_v']:.2f}",
        "current": f"{board['current_a']:.2f}",
        "soc": f"{board['soc_pct']}",
        "temperature/mosfet": f"{board['mosfet_temp_c']}",
        "temperature/1": f"{board['temp1_c']}",
        "temperature/2": f"{board['temp2_c']}",
        "cycles": f"{board['cycles']}",
        "status/flags": f"{board['status']}",
        "status/charge_mos": "ON" if board["status"] & 1 else "OFF",
        "status/discharge_mos": "ON" if board["status"] & 2 else "OFF",
        "status/balancer": "ON" if board["status"] & 4 else "OFF",
        "cell_min": f"{min(cells) / 1000:.3f}",
        "cell_max": f"{max(cells) / 1000:.3f}",
        "cell_diff": f"{(max(cells) - min(cells)) / 1000:.3f}",
        "availability": "online",
    }
    for i, mv in enumerate(cells):
        want[f"cell/{i + 1}"] = f"{mv / 1000:.3f}"
    wrong = {k: (state.get(f"{base}/{k}"), v) for k, v in want.items()
             if state.get(f"{base}/{k}") != v}
    tap.ok(not wrong, f"{base}: {len(want)} values as read --json gives them", wrong)
    extra_cells = [t for t in state if t.startswith(f"{base}/cell/")
                   and int(t.rsplit("/", 1)[1]) > len(cells)]
    tap.ok(not extra_cells, f"{base}: {len(cells)} cells, no more", extra_cells)
    # The frame topic: the whole reply, which `decode` reads as read --json
    # prints it, without the parameter password.
    status, out, err = run([CLI, "decode"], stdin_text=state.get(f"{base}/frame", "") + "\n")
    decoded = json.loads(out) if status == 0 and out.strip() else {}
    for key in ("ok", "line", "command", "source", "transport", "terminal", "record"):
        decoded.pop(key, None)
    tap.ok(decoded == board and "parameter_password" not in decoded,
           f"{base}/frame decodes to what read --json gives, without the password",
           f"{status} {err}\n" + str({k: (decoded.get(k), board.get(k))
                                       for k in set(decoded) | set(board)
                                       if decoded.get(k) != board.get(k)}))
    info = json.loads(state.get(f"{base}/info", "{}"))
    tap.ok(info.get("device_id") == board["device_id"] and info.get("cells") == len(cells),
           f"{base}/info names the device id and the cell count", info)


def check_discovery(state, configs, base, object_id, n_cells, name):
    mine = {t: json.loads(p) for t, p in configs.items() if f"/{object_id}/" in t}
    problems = []
    sensors = binaries = 0
    for topic, c in mine.items():
        kind = topic.split("/")[1]
        keys = SENSOR_KEYS if kind == "sensor" else BINARY_KEYS
        sensors += kind == "sensor"
        binaries += kind == "binary_sensor"
        if set(c) - keys:
            problems.append(f"{topic}: undocumented keys {set(c) - keys}")
        device = c.get("device", {})
        if set(device) - DEVICE_KEYS:
            problems.append(f"{topic}: undocumented device keys {set(device) - DEVICE_KEYS}")
        for key in ("identifiers", "name", "manufacturer", "model", "sw_version"):
            if not device.get(key):
                problems.append(f"{topic}: device without {key}")
        if not isinstance(device.get("identifiers"), list) or device.get("name") != name:
            problems.append(f"{topic}: device identifiers/name {device}")
        if not c.get("unique_id") or not c.get("state_topic", "").startswith(base + "/"):
            problems.append(f"{topic}: unique_id/state_topic {c}")
        elif c["state_topic"] not in state:
            problems.append(f"{topic}: nothing retained on {c['state_topic']}")
        avail = [a.get("topic") for a in c.get("availability", [])]
        if avail != [f"packwatch/bridge/{CLIENT}/status", f"{base}/availability"] \
                or c.get("availability_mode") != "all" or "availability_topic" in c:
            problems.append(f"{topic}: availability {c.get('availability')}")
        if kind == "sensor":
            dc, unit = c.get("device_class"), c.get("unit_of_measurement")
            if dc is not None and unit not in SENSOR_UNITS.get(dc, set()):
                problems.append(f"{topic}: {dc} in {unit}")
            if c.get("state_class") not in STATE_CLASSES:
                problems.append(f"{topic}: state_class {c.get('state_class')}")
        elif c.get("device_class") not in BINARY_CLASSES or \
                state.get(c["state_topic"]) not in (c.get("payload_on"), c.get("payload_off")):
            problems.append(f"{topic}: binary sensor {c}")
    ids = [c["unique_id"] for c in mine.values()]
    if len(ids) != len(set(ids)):
        problems.append("unique_id repeated")
    tap.ok(not problems, f"discovery of {object_id}: {len(mine)} entities, documented keys only",
           "\n".join(problems[:20]))
    tap.ok(sensors == 12 + n_cells and binaries == 4,
           f"discovery of {object_id}: 12 + {n_cells} cell sensors and 4 binary sensors",
           f"{sensors} sensors, {binaries} binary sensors")


def check_alarm(broker, sim_b, base):
    events = subprocess.Popen(sub_argv(broker, f"{base}/alarms/event") + ["-q", "1"],
                              stdout=subprocess.PIPE, text=True)
    children.append(events)
    time.sleep(0.3)
    sim_b.proc.send_signal(signal.SIGUSR2)  # the board stops answering
    gone = wait_retained(broker, f"{base}/availability", "offline", 20)
    problem = wait_retained(broker, f"{base}/alarms/problem", "ON", 5)
    tap.ok(gone and problem, f"{base}: a silent board goes offline, its alarm on")
    sim_b.proc.send_signal(signal.SIGUSR2)
    back = wait_retained(broker, f"{base}/availability", "online", 20)
    clear = wait_retained(broker, f"{base}/alarms/problem", "OFF", 5)
    tap.ok(back and clear, f"{base}: answering again, online, alarm off")
    time.sleep(0.5)
    events.terminate()
    out, _ = events.communicate(timeout=10)
    seen = [json.loads(line.partition(" ")[2]) for line in out.splitlines()]
    kinds = [(e.get("event"), e.get("code")) for e in seen]
    tap.ok(("raised", "comm_lost") in kinds and ("cleared", "comm_lost") in kinds,
           f"{base}/alarms/event: comm_lost raised, then cleared", out)


def check_restart(broker, server, base_a):
    broker.kill()
    time.sleep(1.5)
    alive = server.poll() is None
    restarted = broker.start()
    back = wait_retained(broker, f"packwatch/bridge/{CLIENT}/status", "online", 30)
    again = retained(broker, f"{base_a}/#") if back else {}
    tap.ok(alive and restarted and back and server.poll() is None,
           "the broker killed and restarted: serve reconnects, still running")
    tap.ok(again.get(f"{base_a}/soc") and again.get(f"{base_a}/cell/14")
           and again.get(f"{base_a}/availability") == "online",
           "after the restart every value is published again", again)
    configs = retained(broker, "homeassistant/#")
    tap.ok(any(f"/{base_a.split('/')[1]}/" in t for t in configs),
           "after the restart the discovery is published again", list(configs)[:5])


def check_bus(broker, sim, db):
    """Two addresses on one line, one poller: the board that answers is
    published, the address where none answers publishes nothing. A third
    board on another port reports the same device id: published apart,
    under the id and its group's name, and said."""
    twin = Sim("twin", "--replay", VENDOR)
    config = write_config("bus.conf", mqtt_section(broker, f"Password={PASSWORD}\nPrefix=bus\n")
                          + f"[Serve]\nInterval=0.5\nDatabase={db}\n"
                          + f"[Board east]\nPort={sim.port}\n"
                          + f"[Board ghost]\nPort={sim.port}\nAddress=7\n"
                          + f"[Board twin]\nPort={twin.port}\n")
    p = serve(config)
    up = wait_retained(broker, "bus/Input_Us/availability", "online", 30)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    twin.proc.terminate()
    boards = sorted({t.split("/")[1] for t in retained(broker, "bus/#")})
    tap.ok(up and p.returncode == 0 and "ghost" not in " ".join(boards)
           and boards[0] == "Input_Us" and boards[-1] == "bridge",
           "two addresses on one port: the board that answers is published, the silent "
           "address is not", f"{p.returncode} {boards}")
    tap.ok(boards[1:2] in (["Input_Us-east"], ["Input_Us-twin"])
           and "give each board its own Id=" in err,
           "two boards with one device id: published apart, and said", f"{boards}\n{err}")


def check_tls(broker, tls, sim, db):
    """CaFile: the connection is TLS and the broker's certificate is
    checked; a certificate from another CA is refused and retried."""
    if tls is None:
        tap.ok(False, "TLS: openssl made the test certificates")
        return
    tls_port, ca = tls
    other_ca = os.path.join(workdir, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    os.path.join(workdir, "other.key"), "-out", other_ca, "-days", "2",
                    "-subj", "/CN=Another CA"], capture_output=True, check=True)
    for cafile, want in ((ca, "connected to the broker"), (other_ca, "does not answer")):
        config = write_config("tls.conf", f"[MQTT]\nHost=localhost\nPort={tls_port}\n"
                              f"ClientId=pw-tls\nUsername={USER}\nPassword={PASSWORD}\n"
                              f"CaFile={cafile}\n[Serve]\nDatabase={db}\n"
                              f"[Board east]\nPort={sim.port}\n")
        p = serve(config)
        seen = stderr_until(p, want, 15)
        online = cafile == ca and wait_retained(broker, "packwatch/bridge/pw-tls/status",
                                                "online", 10)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        if cafile == ca:
            tap.ok(want in seen and online and p.returncode == 0,
                   "TLS with CaFile: connected, the bridge online", f"{p.returncode}\n{seen}")
        else:
            tap.ok(want in seen and "connected to the broker" not in seen and p.returncode == 0,
                   "TLS with the wrong CA: not connected, retried, stops with 0",
                   f"{p.returncode}\n{seen}")


def main():
    broker = Broker()
    tls = broker.add_tls()
    if not broker.start():
        tap.bail("mosquitto did not start")
    sim_a = Sim("replay", "--replay", VENDOR)
    state_b = write_config("b.state", "[parameters]\ndevice_id=CAB-B2\n")
    sim_b = Sim("board-b", "--state", state_b)

    check_bad_configs(broker, sim_a.port)

    status, out, err = run([CLI, "read", "--port", sim_a.port, "--json"])
    if status != 0:
        tap.bail(f"read --json failed: {err}")
    board_a = json.loads(out)
    base_a = "packwatch/Input_Us"  # "Input Us" as a topic level
    base_b = "packwatch/CAB-B2"
    db = os.path.join(workdir, "history.db")
    pwfile = write_config("password", PASSWORD + "\n")
    config = write_config("serve.conf", mqtt_section(broker, f"PasswordFile={pwfile}\n")
                          + f"[Serve]\nInterval=0.5\nDatabase={db}\n"
                          + f"[Board east]\nPort={sim_a.port}\n"
                          + f"[Board west]\nPort={sim_b.port}\nName=West cabinet\n")
    server = serve(config)
    with open(f"/proc/{server.pid}/cmdline", "rb") as f:
        cmdline = f.read()
    tap.ok(PASSWORD.encode() not in cmdline, "the password is not in /proc/PID/cmdline",
           cmdline)
    ready = wait_retained(broker, f"{base_a}/availability", "online", 20) and \
        wait_retained(broker, f"{base_b}/availability", "online", 20)
    tap.ok(ready and wait_retained(broker, f"packwatch/bridge/{CLIENT}/status", "online", 5),
           "with the password from PasswordFile: the bridge and both boards online")
    time.sleep(1.0)
    state = retained(broker, "packwatch/#")
    check_values(state, base_a, board_a)
    tap.ok(state.get(f"{base_b}/soc") == "60" and len(
        [t for t in state if t.startswith(f"{base_b}/cell/")]) == 16,
        f"{base_b}: the simulated board's SOC and 16 cells", state.get(f"{base_b}/soc"))
    configs = retained(broker, "homeassistant/#")
    check_discovery(state, configs, base_a, "Input_Us", 14, "east")
    check_discovery(state, configs, base_b, "CAB-B2", 16, "West cabinet")

    check_alarm(broker, sim_b, base_b)
    check_restart(broker, server, base_a)

    sent = time.monotonic()
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
    took = time.monotonic() - sent
    err = server.stderr.read()
    tap.ok(server.returncode == 0 and took < 1.0,
           f"SIGTERM: exit 0 after {took:.2f} s", f"{server.returncode}\n{err}")
    tap.ok(re.search(r"serve: [1-9]\d* samples saved \(terminated\)$", err.strip()),
           "the last line counts the samples saved, as log's does", err)
    final = retained(broker, "packwatch/#")
    tap.ok(final.get(f"packwatch/bridge/{CLIENT}/status") == "offline"
           and final.get(f"{base_a}/availability") == "offline"
           and final.get(f"{base_b}/availability") == "offline",
           "after the stop: the bridge and both boards offline (retained)")
    con = sqlite3.connect(db)
    try:
        rows = dict(con.execute("SELECT d.key, count(*) FROM samples s JOIN devices d "
                                "ON d.id = s.device_id GROUP BY d.key").fetchall())
    finally:
        con.close()
    tap.ok(rows.get("id:Input Us", 0) > 3 and rows.get("id:CAB-B2", 0) > 3,
           "both boards recorded in the history as log records them", rows)

    check_bus(broker, sim_a, db)
    check_tls(broker, tls, sim_a, db)

    # The password from the environment; a wrong one is refused by the
    # broker, said, and retried without crashing.
    env_config = write_config("env.conf", mqtt_section(broker)
                              + f"[Serve]\nDatabase={db}\n[Board east]\nPort={sim_a.port}\n")
    for password, want in ((PASSWORD, "connected to the broker"),
                           ("wrong", "refused the connection")):
        p = serve(env_config, env=dict(os.environ, PACKWATCH_MQTT_PASSWORD=password))
        seen = stderr_until(p, want, 15)
        p.send_signal(signal.SIGINT)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        tap.ok(want in seen and p.returncode == 0,
               f"password {'from' if password == PASSWORD else 'wrong in'} "
               f"{'PACKWATCH_MQTT_PASSWORD'}: says {want!r}, stops with 0",
               f"{p.returncode}\n{seen}")
    broker.kill()


try:
    main()
finally:
    for child in children:
        if child.poll() is None:
            child.kill()
            child.wait()
    shutil.rmtree(workdir, ignore_errors=True)
tap.done()
