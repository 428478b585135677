"""Tail latency under load, and normal requests while slow clients hold connections open.

The app is bench/serve_bench.py's (examples/django plus a small dynamic view), built once per
server with the buildpack (LAUNCHPACK_SERVER), each run as a dyno of its slug with the web line
launchpack generated. One more configuration is the baseline of this invocation: mod_wsgi as
launchpack ran it before issue 10 (embedded mode, where mod_wsgi-express's connections are the
app's processes x threads: BEFORE, set the way a user would, by config vars at start).

    load        wrk --latency, LOAD_CONNECTIONS connections, LOAD_SECONDS: requests/s, p50/p90/p99,
                socket errors (connect, read, write, timeout) and non-2xx responses
    slow        SLOW_CONNECTIONS connections that send a request's headers one line every few
                seconds and never finish them (slowloris), held open while PROBES normal requests
                are made one after another: the share answered within 1 s

uWSGI's --http-socket closes every connection after its response (no keep-alive), which wrk
counts as read errors: they are not failed requests.

Ratios are against gunicorn's numbers in the same run (the issue's target: mod_wsgi p99 <= 2x
gunicorn's). Needs root (the harness creates users and mount namespaces). Nothing is asserted.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from bench import serve_bench
from tests.harness import heroku as harness

LOAD_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "20"))
LOAD_CONNECTIONS = int(os.environ.get("BENCH_LOAD_CONNECTIONS", "64"))
SLOW_CONNECTIONS = int(os.environ.get("BENCH_SLOW_CONNECTIONS", "300"))
PROBES = 40
SERVERS = os.environ.get("BENCH_SERVERS", "mod_wsgi,gunicorn,waitress,uwsgi").split(",")
PATH = serve_bench.ENDPOINTS["dynamic"]
# mod_wsgi as launchpack started it before issue 10.
BEFORE = {"MOD_WSGI_EMBEDDED_MODE": "1"}


def latency(out: str, label: str) -> float:
    match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def load(url: str) -> dict[str, float]:
    subprocess.run(["wrk", "-t2", f"-c{LOAD_CONNECTIONS}", "-d3s", url], capture_output=True)  # warm-up
    out = subprocess.run(
        ["wrk", "-t2", f"-c{LOAD_CONNECTIONS}", f"-d{LOAD_SECONDS}s", "--timeout", "10s", "--latency", url],
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {
        "rps": float(rate.group(1)) if rate else 0.0,
        "p50": latency(out, "50"),
        "p90": latency(out, "90"),
        "p99": latency(out, "99"),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
        "errors": errors.group(0) if errors else "",
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


class SlowClients:
    """Connections that trickle request headers and never end them; reopened when dropped."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.stop = threading.Event()
        self.sockets: list[socket.socket | None] = [None] * count
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
            return s
        except OSError:
            return None

    def _run(self) -> None:
        while not self.stop.is_set():
            for index in range(self.count):
                s = self.sockets[index]
                try:
                    if s is None:
                        raise OSError
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    if s is not None:
                        s.close()
                    self.sockets[index] = self._open()
                if self.stop.is_set():
                    break
            self.stop.wait(3)

    def __enter__(self) -> SlowClients:
        for index in range(self.count):
            self.sockets[index] = self._open()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(10)
        for s in self.sockets:
            if s is not None:
                s.close()


def probe(port: int) -> float | None:
    """Seconds for one normal request on a new connection, None if none within 5 s."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {PATH} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
            data = s.recv(64)
            if not data.startswith(b"HTTP/1.1 200"):
                return None
    except OSError:
        return None
    return time.monotonic() - started


def slow(port: int) -> dict[str, float]:
    with SlowClients(port, SLOW_CONNECTIONS):
        time.sleep(3)  # let them all be accepted (or queued)
        times = [probe(port) for _ in range(PROBES) if not time.sleep(0.2)]
    within = sum(1 for t in times if t is not None and t <= 1.0)
    return {"within_1s": 100.0 * within / len(times)}


def measure(heroku: harness.Heroku, slug: harness.Slug, command: str, config: dict[str, str]) -> dict[str, float]:
    serve_bench.set_web(slug, command)
    with heroku.start(slug, config=config) as dyno:
        dyno.wait_until_serving()
        deadline = time.monotonic() + 30
        while dyno.get(PATH).status != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        result = {**load(dyno.url + PATH), **slow(dyno.port)}
        dyno.terminate()
    return result


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (scripts/install-system-deps installs it)")
    harness.ensure_users()
    heroku = harness.Heroku(harness.stage_buildpack())
    workdir = tempfile.mkdtemp(prefix="load-bench-")
    try:
        app = serve_bench.bench_app(workdir)
        os.makedirs(serve_bench.CACHE, exist_ok=True)
        harness.chown_tree(serve_bench.CACHE, harness.BUILD_USER)
        configs: dict[str, tuple[harness.Slug, str, dict[str, str]]] = {}
        for server in SERVERS:
            slug = heroku.build(app, {"LAUNCHPACK_SERVER": server}, cache_dir=serve_bench.CACHE)
            if not slug.compile.ok:
                sys.exit(slug.compile.output)
            command = slug.process_command("web")
            configs[server] = (slug, command, {})
            if server == "mod_wsgi":
                configs["mod_wsgi before issue 10"] = (slug, command, BEFORE)
        for name, (_slug, command, config) in configs.items():
            print(f"{name}: {command}" + "".join(f"  [{k}={v}]" for k, v in config.items()), flush=True)
        results = {}
        for name, (slug, command, config) in configs.items():
            results[name] = measure(heroku, slug, command, config)
            r = results[name]
            print(
                f"{name:<26} {r['rps']:7.0f} req/s  p50 {r['p50']:7.1f} ms  p90 {r['p90']:7.1f} ms"
                f"  p99 {r['p99']:7.1f} ms  socket errors {r['socket_errors']:4} (timeouts {r['timeouts']})"
                f"  non-2xx {r['non_2xx']}  |  with {SLOW_CONNECTIONS} slow clients: {r['within_1s']:5.1f}% within 1 s",
                flush=True,
            )
        if "gunicorn" in results:
            base = results["gunicorn"]
            print(f"\nratios to gunicorn in this run ({LOAD_CONNECTIONS} connections, {LOAD_SECONDS} s):")
            for name, r in results.items():
                print(
                    f"  {name:<26} p99 {r['p99'] / base['p99']:5.2f}x (mod_wsgi target <= 2)"
                    f"   throughput {r['rps'] / base['rps']:5.2f}x"
                )
    finally:
        heroku.cleanup()
        shutil.rmtree(heroku.buildpack, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
