"""A faithful local stand-in for Heroku's build and dyno, for integration tests.

What it reproduces (see ../shared/reference/buildpack-apis.md §1):
- build: the app is copied to /tmp/build_<random>; bin/detect, bin/compile BUILD CACHE ENV and
  bin/release run as an unprivileged build user, with a clean environment (STACK=heroku-24, the
  stack's PATH, config vars only as files in ENV_DIR, never exported), from a copy of the
  buildpack the build user can read;
- slug: BUILD_DIR is archived with tar and unpacked elsewhere (new files, as on Heroku), and the
  build dir no longer exists; as when a dyno unpacks a slug, its files then belong to the
  dyno's user (who is not the build user);
- dyno: the slug is mounted at /app (a private mount namespace per dyno, so tests can run side
  by side) in a run image without the build machine's Python (tests/harness/runimage.py: heroku-24's
  run image has none), the process runs as a *different* unprivileged user with HOME=/app, cwd /app, the
  runtime config vars, PORT (web only), DYNO; bash sources .profile.d/*.sh and .profile, then
  runs the Procfile command (falling back to bin/release's default_process_types) with bash -c;
- shutdown: SIGTERM to every process of the dyno, SIGKILL after 30 s.

One thing it does not model: Heroku's stack image. The build runs on this machine's Debian,
whose /etc/pip.conf we neutralise (PIP_CONFIG_FILE=/dev/null) as a Heroku stack has none.
Needs root (users, mount namespaces).
"""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import yaml

from tests.harness.runimage import HIDE_STACK_PYTHON

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_USER = "lpbuild"
DYNO_USER = "lpdyno"
STACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HEROKU_PROCFILE_LINE = re.compile(r"^[ \t]*([a-zA-Z0-9_-]+):?\s+(.*)[ \t]*$")
SHUTDOWN_GRACE = 30


def ensure_users() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("the Heroku harness needs root (it creates users and mount namespaces)")
    for user in (BUILD_USER, DYNO_USER):
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(["useradd", "--no-create-home", "--home-dir", "/app", "--shell", "/bin/bash", user], check=True)
    os.makedirs("/app", exist_ok=True)


def ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: str, user: str) -> None:
    subprocess.run(["chown", "-R", f"{user}:{user}", path], check=True)


def stage_buildpack(source: str | None = None) -> str:
    """A copy of the buildpack the build user can read (the checkout may be under /root)."""
    target = tempfile.mkdtemp(prefix="launchpack-bp-")
    os.chmod(target, 0o755)
    if source:  # an already packaged buildpack (dist/)
        shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
    else:
        for name in ("buildpack", "runtime", "procfile_gen"):
            shutil.copytree(
                os.path.join(REPO, name),
                os.path.join(target, name),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
    subprocess.run(["chmod", "-R", "a+rX", target], check=True)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(proc: subprocess.Popen, port: int, what: str, log, timeout: float = 90) -> None:
    """Until something listens on port; fail with log() if proc exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}:\n{log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port} within {timeout}s:\n{log()}")


def as_user(user: str, env: dict[str, str], command: list[str]) -> list[str]:
    env_args = [f"{k}={v}" for k, v in env.items()]
    if user == "root":
        return ["env", "-i", *env_args, *command]
    uid, gid = ids(user)
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", "env", "-i", *env_args, *command]


@dataclass
class Result:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass
class Slug:
    path: str
    compile: Result
    release_yaml: str
    build_dir: str  # where it was built (gone now)

    def process_command(self, name: str) -> str | None:
        procfile = os.path.join(self.path, "Procfile")
        if os.path.isfile(procfile):
            with open(procfile, encoding="utf-8") as handle:
                for line in handle:
                    match = HEROKU_PROCFILE_LINE.match(line.rstrip("\n"))
                    if match and match.group(1) == name:
                        return match.group(2)
        defaults = (yaml.safe_load(self.release_yaml) or {}).get("default_process_types") or {}
        return defaults.get(name)


@dataclass
class Heroku:
    buildpack: str
    created: list[str] = field(default_factory=list)
    # A CACHE_DIR from an earlier build (its wheelhouse has the compiled web servers): new_cache()
    # starts from a copy of it, as Heroku restores the previous build's cache. None: empty caches.
    seed_cache: str | None = None

    def _mkdtemp(self, prefix: str, owner: str | None = BUILD_USER) -> str:
        path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
        os.chmod(path, 0o755)
        if owner:
            chown_tree(path, owner)
        self.created.append(path)
        return path

    def new_cache(self) -> str:
        """A cache dir for a build: a copy of seed_cache when there is one, else empty."""
        return self.copy_cache(self.seed_cache) if self.seed_cache else self.empty_cache()

    def empty_cache(self) -> str:
        """The cache dir of an app's very first build."""
        return self._mkdtemp("cache_")

    def copy_cache(self, source: str) -> str:
        cache = self._mkdtemp("cache_")
        subprocess.run(["cp", "-a", source + "/.", cache], check=True)
        chown_tree(cache, BUILD_USER)
        return cache

    def bin(self, name: str) -> str:
        for candidate in (os.path.join(self.buildpack, "buildpack", "bin", name), os.path.join(self.buildpack, "bin", name)):
            if os.path.exists(candidate):
                return candidate
        raise FileNotFoundError(name)

    def _env_dir(self, config: dict[str, str]) -> str:
        env_dir = self._mkdtemp("env_", owner=None)
        for name, value in config.items():
            with open(os.path.join(env_dir, name), "w", encoding="utf-8") as handle:
                handle.write(value)
        subprocess.run(["chmod", "-R", "a+rX", env_dir], check=True)
        return env_dir

    def build_env(self, home: str, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"PATH": STACK_PATH, "HOME": home, "STACK": "heroku-24", "PIP_CONFIG_FILE": "/dev/null", **(extra or {})}

    def run_as_builder(
        self,
        args: list[str],
        timeout: int = 900,
        extra_env: dict[str, str] | None = None,
        hide: tuple[str, ...] = (),
    ) -> Result:
        """Run as the build user. `hide`: stack files the build must not find (a stack that lacks
        them), shadowed by /dev/null in a private mount namespace."""
        home = self._mkdtemp("home_")
        command = as_user(BUILD_USER, self.build_env(home, extra_env), args)
        if hide:
            mounts = " && ".join(f"mount --bind /dev/null {shlex.quote(path)}" for path in hide if os.path.exists(path))
            command = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", mounts + ' && exec "$@"', "sh", *command]
        completed = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            cwd="/tmp",
        )
        return Result(completed.returncode, completed.stdout)

    def stage_app(self, app_source: str) -> str:
        build_dir = tempfile.mkdtemp(prefix="build_", dir="/tmp")
        os.rmdir(build_dir)
        shutil.copytree(app_source, build_dir, symlinks=True)
        chown_tree(build_dir, BUILD_USER)
        self.created.append(build_dir)
        return build_dir

    def detect(self, build_dir: str) -> subprocess.CompletedProcess:
        home = self._mkdtemp("home_")
        return subprocess.run(
            as_user(BUILD_USER, self.build_env(home), [self.bin("detect"), build_dir]), capture_output=True, text=True
        )

    def compile(self, build_dir: str, cache_dir: str, config: dict[str, str] | None = None, **kw) -> Result:
        """bin/compile; keyword arguments go to run_as_builder (timeout, hide)."""
        env_dir = self._env_dir(config or {})
        return self.run_as_builder([self.bin("compile"), build_dir, cache_dir, env_dir], **kw)

    def release(self, build_dir: str) -> Result:
        return self.run_as_builder([self.bin("release"), build_dir])

    def build(
        self,
        app_source: str,
        config: dict[str, str] | None = None,
        cache_dir: str | None = None,
        extra_env: dict[str, str] | None = None,
        **compile_kw,
    ) -> Slug:
        """detect + compile + release, then move the build dir away (as the slug compiler does).

        extra_env: platform variables for bin/compile (e.g. another STACK), not config vars;
        compile_kw: passed to run_as_builder (e.g. hide=...)."""
        build_dir = self.stage_app(app_source)
        detected = self.detect(build_dir)
        if detected.returncode != 0:
            return Slug("", Result(detected.returncode, detected.stdout + detected.stderr), "", build_dir)
        compiled = self.compile(build_dir, cache_dir or self.new_cache(), config, extra_env=extra_env, **compile_kw)
        if not compiled.ok:
            return Slug("", compiled, "", build_dir)
        released = self.release(build_dir)
        assert released.ok, released.output
        slug = tempfile.mkdtemp(prefix="slug_", dir="/tmp")
        os.chmod(slug, 0o755)
        # The slug compiler archives BUILD_DIR (tar) and the dyno unpacks it: the slug's files are
        # new files, never the build's own (which may share inodes with CACHE_DIR via hardlinks).
        subprocess.run(f"tar -C {build_dir} -cf - . | tar -C {slug} -xf -", shell=True, check=True)
        shutil.rmtree(build_dir)
        chown_tree(slug, DYNO_USER)
        self.created.append(slug)
        assert not os.path.exists(build_dir)
        return Slug(slug, compiled, released.output, build_dir)

    def start(
        self, slug: Slug, process: str = "web", config: dict[str, str] | None = None, user: str = DYNO_USER
    ) -> Dyno:
        """Start a process type. user="root" runs it as root instead (a container's default)."""
        command = slug.process_command(process)
        if command is None:
            raise AssertionError(f"no {process} process in the slug")
        port = free_port()
        env = {"HOME": "/app", "PATH": STACK_PATH, "DYNO": f"{process}.1", **(config or {})}
        if process == "web":
            env["PORT"] = str(port)
        boot = 'cd /app && for f in .profile.d/*.sh; do [ -r "$f" ] && . "$f"; done; [ -r .profile ] && . ./.profile; exec bash -c "$0"'
        args = [
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", 'mount --bind "$0" /app && ' + HIDE_STACK_PYTHON + ' && exec "$@"', slug.path,
            *as_user(user, env, ["bash", "-c", boot, command]),
        ]  # fmt: skip
        log = tempfile.NamedTemporaryFile("w+", prefix=f"dyno-{process}-", suffix=".log", delete=False)
        self.created.append(log.name)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return Dyno(proc, port, log.name, command)

    def run_one_off(
        self, slug: Slug, command: str, config: dict[str, str] | None = None, timeout: int = 300, dyno: str = "run.1"
    ) -> Result:
        """`heroku run` / the release phase: a one-off dyno running a command to completion."""
        env = {"HOME": "/app", "PATH": STACK_PATH, "DYNO": dyno, **(config or {})}
        boot = 'cd /app && for f in .profile.d/*.sh; do [ -r "$f" ] && . "$f"; done; exec bash -c "$0"'
        args = [
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", 'mount --bind "$0" /app && ' + HIDE_STACK_PYTHON + ' && exec "$@"', slug.path,
            *as_user(DYNO_USER, env, ["bash", "-c", boot, command]),
        ]  # fmt: skip
        completed = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return Result(completed.returncode, completed.stdout)

    def cleanup(self) -> None:
        """Remove what the harness created. In the background: deleting a few gigabytes of slugs
        and caches takes the better part of a minute on a busy disk, and nothing waits for it."""
        paths = [path for path in reversed(self.created) if os.path.lexists(path)]
        self.created.clear()
        if paths:
            subprocess.Popen(
                ["rm", "-rf", "--", *paths],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Dyno:
    def __init__(self, proc: subprocess.Popen, port: int, log_path: str, command: str):
        self.proc, self.port, self.log_path, self.command = proc, port, log_path, command

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def get(self, path: str, timeout: float = 30, headers: dict[str, str] | None = None) -> Response:
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())

    def wait_until_serving(self, timeout: float = 90) -> None:
        wait_for_port(self.proc, self.port, "web process", self.log, timeout)

    def terminate(self, grace: float = SHUTDOWN_GRACE) -> float:
        """SIGTERM every process of the dyno, as Heroku does; return seconds until it exited."""
        started = time.monotonic()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                raise AssertionError(f"dyno did not exit within {grace}s of SIGTERM:\n{self.log()}") from None
        return time.monotonic() - started

    def __enter__(self) -> Dyno:
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

