"""The `launchpack` command as a user has it, for integration tests.

- installed from this checkout into a venv of its own, as `pipx install .` does (a copy of the
  sources is installed, so that two test workers can install at the same time);
- run with a scratch HOME and LAUNCHPACK_HOME, so that tests never touch the real ~/.launchpack,
  a clean PATH (the stack's, plus the command), and no system pip config (a developer's machine
  has none of this machine's /etc/pip.conf);
- run as a developer does: an unprivileged account (not root) that owns the project, its
  HOME and LAUNCHPACK_HOME (the test's workspace is handed to it before each command);
- `start` runs as a user runs it in a terminal: its own process, stopped with SIGTERM or
  Ctrl-C (SIGINT) sent to that process only.
"""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from tests.harness.heroku import REPO, STACK_PATH, Response, as_user, chown_tree, free_port, wait_for_port

DEVELOPER = "lpdev"


def ensure_developer() -> None:
    import pwd

    try:
        pwd.getpwnam(DEVELOPER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/bash", DEVELOPER], check=True)

SOURCES = ("pyproject.toml", "README.md", "runtime", "procfile_gen")


def copy_sources(target: str) -> None:
    """The checkout's files that `pip install .` reads, copied into target (no bytecode)."""
    for name in SOURCES:
        source = os.path.join(REPO, name)
        if os.path.isdir(source):
            shutil.copytree(source, os.path.join(target, name), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, target)


def install(venv_dir: str) -> str:
    """Install launchpack from a copy of this checkout into venv_dir; return its bin dir."""
    with tempfile.TemporaryDirectory(prefix="launchpack-src-") as src:
        copy_sources(src)
        subprocess.run(["/usr/bin/python3", "-m", "venv", venv_dir], check=True)
        subprocess.run(
            [os.path.join(venv_dir, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check", src],
            check=True,
            env={"PATH": STACK_PATH, "HOME": src, "PIP_CONFIG_FILE": "/dev/null"},
        )
    return os.path.join(venv_dir, "bin")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Cli:
    bin_dir: str
    home: str  # HOME
    launchpack_home: str  # LAUNCHPACK_HOME
    workspace: str | None = None  # the developer's own files (projects, HOME, LAUNCHPACK_HOME)

    def own(self) -> None:
        """Hand the workspace to the developer, as a developer owns their checkout (tests write
        files into it as root)."""
        if self.workspace:
            chown_tree(self.workspace, DEVELOPER)

    def argv(self, args: list[str], env: dict[str, str]) -> list[str]:
        """`launchpack ARGS` run as the developer, with exactly env."""
        return self.as_developer([self.launchpack, *args], env)

    def as_developer(self, command: list[str], env: dict[str, str]) -> list[str]:
        self.own()
        return as_user(DEVELOPER, env, command)

    @property
    def launchpack(self) -> str:
        return os.path.join(self.bin_dir, "launchpack")

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin_dir}:{STACK_PATH}",
            "HOME": self.home,
            "LAUNCHPACK_HOME": self.launchpack_home,
            "PIP_CONFIG_FILE": "/dev/null",
            "LANG": "C.UTF-8",
            **extra,
        }

    def run(
        self, args: list[str], cwd: str, env: dict[str, str] | None = None, input: str | None = None, timeout: int = 600
    ) -> Result:
        completed = subprocess.run(
            self.argv(args, env if env is not None else self.env()),
            cwd=cwd,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)

    def start(
        self, cwd: str, env: dict[str, str] | None = None, args: list[str] = (), port: int | None = None
    ) -> Server:
        """`launchpack start` in the background; PORT set in its environment unless port=0."""
        env = dict(env if env is not None else self.env())
        port = free_port() if port is None else port
        if port:
            env["PORT"] = str(port)
        log = tempfile.NamedTemporaryFile("w+", prefix="launchpack-start-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            self.argv(["start", *args], env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return Server(proc, port, log.name)


class Server:
    """A running `launchpack start`."""

    def __init__(self, proc: subprocess.Popen, port: int, log_path: str):
        self.proc, self.port, self.log_path = proc, port, log_path
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def wait_until_serving(self, timeout: float = 90) -> None:
        wait_for_port(self.proc, self.port, "launchpack start", self.log, timeout)

    def request(self, path: str, data: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Response:
        """GET (or POST form data) with this server's cookie jar, following redirects."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                result = Response(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
                result.headers["x-final-url"] = response.geturl()
                return result
        except urllib.error.HTTPError as error:
            return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def get(self, path: str) -> Response:
        return self.request(path)

    def stop(self, signum: int = signal.SIGTERM, grace: float = 10) -> float:
        """Send a signal to the launchpack process alone (as `kill PID` or a supervisor does);
        return the seconds until it exited."""
        started = time.monotonic()
        self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"launchpack start did not exit within {grace}s of {signum!r}:\n{self.log()}"
            ) from None
        return time.monotonic() - started

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:  # a failed test: stop it the polite way first (honcho stops its children)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.log_path)
