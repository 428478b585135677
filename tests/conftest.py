"""Shared fixtures: the Heroku harness, example apps, HTML helpers."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

from tests.harness import cnb as cnb_harness
from tests.harness import heroku as heroku_harness

REPO = heroku_harness.REPO
EXAMPLES = os.path.join(REPO, "examples")
FIXTURES = os.path.join(REPO, "tests", "fixtures")


SHARED_ENV = "LAUNCHPACK_TEST_SHARED_DIR"


def pytest_configure(config):
    # One directory per test run, shared by its pytest-xdist workers (they inherit the controller's
    # environment). Not under pytest's basetemp: other pytest runs on the machine prune those.
    if not hasattr(config, "workerinput"):
        os.environ[SHARED_ENV] = tempfile.mkdtemp(prefix="launchpack-tests-")
        os.chmod(os.environ[SHARED_ENV], 0o755)  # the tests' unprivileged users run things from it


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        shutil.rmtree(os.environ.pop(SHARED_ENV, ""), ignore_errors=True)


@pytest.fixture(scope="session")
def shared_dir() -> str:
    """A directory shared by the pytest-xdist workers of this test run (and only this run)."""
    return os.environ[SHARED_ENV]


@dataclass
class WarmCache:
    """A CACHE_DIR after a first build of examples/django with one web server."""

    path: str  # root-owned; tests build from copies (Heroku.copy_cache)
    first_build_output: str

    @property
    def wheels(self) -> str:
        """The same cache without the app's environment: the downloaded and compiled wheels and
        the build's tools, which any app's first build on this stack would create alike."""
        return self.path + "-wheels"


def server_warm_cache(harness: heroku_harness.Heroku, shared: str, server: str) -> WarmCache:
    """Built once per test run for all workers: compiling mod_wsgi or uWSGI takes a minute, and
    every later build reuses the compiled wheel from the cache, as a real app's rebuilds do."""
    target = os.path.join(shared, f"warm-cache-{server}")
    with open(target + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(target + ".output"):
            cache = harness.empty_cache()
            slug = harness.build(os.path.join(EXAMPLES, "django"), {"LAUNCHPACK_SERVER": server}, cache_dir=cache)
            assert slug.compile.ok, slug.compile.output
            shutil.copytree(cache, target, symlinks=True)
            # Everything but the app's environment and the step cache (cache/launchpack/env, steps):
            # the build's tools, uv's cache and the wheelhouse, with the compiled web server.
            app_specific = os.path.join(cache, "launchpack")
            skip = lambda directory, names: ["env", "steps"] if directory == app_specific else []  # noqa: E731
            shutil.copytree(cache, target + "-wheels", symlinks=True, ignore=skip)
            with open(target + ".output", "w", encoding="utf-8") as handle:
                handle.write(slug.compile.output)
    with open(target + ".output", encoding="utf-8") as handle:
        return WarmCache(target, handle.read())


@pytest.fixture(scope="session")
def heroku(shared_dir):
    # pytest-xdist workers share the machine: create the users once, under a lock.
    with open("/tmp/launchpack-test-users.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        heroku_harness.ensure_users()
    harness = heroku_harness.Heroku(heroku_harness.stage_buildpack(os.environ.get("LAUNCHPACK_TEST_BUILDPACK")))
    # Builds start with the wheelhouse of an earlier build, which compiled the default server
    # (mod_wsgi): compiling it in every test would take a minute each (Heroku.empty_cache() for
    # an app's very first build).
    harness.seed_cache = server_warm_cache(harness, shared_dir, "mod_wsgi").wheels
    yield harness
    harness.cleanup()
    shutil.rmtree(harness.buildpack, ignore_errors=True)


@pytest.fixture(scope="session")
def cnb():
    """The CNB lifecycle stand-in with the checkout's buildpack (or LAUNCHPACK_TEST_BUILDPACK)."""
    with open("/tmp/launchpack-test-users.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cnb_harness.ensure_users()
    lifecycle = cnb_harness.Lifecycle.staged(os.environ.get("LAUNCHPACK_TEST_BUILDPACK"))
    yield lifecycle
    lifecycle.cleanup()


@dataclass(frozen=True)
class Packaged:
    directory: str  # dist/launchpack-buildpack
    tarball: str  # dist/launchpack-buildpack.tgz


@pytest.fixture(scope="session")
def packaged():
    """What `make dist` writes, made by `make dist` into a scratch dir (never a stale dist/)."""
    dist = tempfile.mkdtemp(prefix="launchpack-dist-")
    subprocess.run(["make", "-s", "-C", REPO, "dist", f"DIST_DIR={dist}"], check=True, capture_output=True)
    yield Packaged(os.path.join(dist, "launchpack-buildpack"), os.path.join(dist, "launchpack-buildpack.tgz"))
    shutil.rmtree(dist, ignore_errors=True)


@pytest.fixture(scope="session")
def cnb_dist(packaged):
    """The CNB lifecycle stand-in with the packaged buildpack directory."""
    with open("/tmp/launchpack-test-users.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cnb_harness.ensure_users()
    lifecycle = cnb_harness.Lifecycle.staged(packaged.directory)
    yield lifecycle
    lifecycle.cleanup()


def pytest_terminal_summary(terminalreporter):
    """Build times the CNB tests recorded (record_property "build_seconds"), also under xdist."""
    lines = []
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "build_seconds":
                lines.append(f"{report.nodeid}: {value}")
    if lines:
        terminalreporter.write_sep("-", "CNB build times (harness)")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def warm_caches(heroku, shared_dir):
    """server name -> WarmCache, built on first use."""

    class Caches(dict):
        def __missing__(self, server: str) -> WarmCache:
            self[server] = server_warm_cache(heroku, shared_dir, server)
            return self[server]

    return Caches()


@pytest.fixture
def app_copy(tmp_path):
    """Copy an example or fixture app to a scratch dir so a test can break it."""

    def copy(name: str) -> str:
        source = os.path.join(EXAMPLES, name) if os.path.isdir(os.path.join(EXAMPLES, name)) else os.path.join(FIXTURES, name)
        target = tmp_path / name
        shutil.copytree(source, target, symlinks=True)
        return str(target)

    return copy


class LinkParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stylesheets: list[str] = []
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or ""):
            self.stylesheets.append(attrs.get("href"))


def stylesheets(html: str) -> list[str]:
    parser = LinkParser()
    parser.feed(html)
    return parser.stylesheets


def write(path: str, text: str, mode: int | None = None) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    if mode is not None:
        os.chmod(path, mode)


# --- a pre-warmed CACHE_DIR, shared by the tests that need launchpack's build tools ---------------

PREWARM = """
import os, subprocess, sys, tempfile
from runtime import python_version
from runtime.installers import tools
from runtime.layout import heroku
from runtime.output import Output
cache = sys.argv[1]
layout = heroku(tempfile.mkdtemp(), cache)
stack = python_version.stack_interpreters()
interpreter = python_version.default_interpreter(stack)
env = dict(os.environ)
out = Output()
for tool in ("poetry", "pipenv", "pip-tools", "pip"):
    tools.python_tool(tool, interpreter, layout, env, out)
uv = tools.uv(layout, env, out)
target = tempfile.mkdtemp()
packages = ["django", "gunicorn", "whitenoise", "six==1.16.0", "idna", "setuptools>=68", "wheel"]
subprocess.run([uv, "pip", "install", "--quiet", "--python", interpreter.path, "--target", target, *packages],
               env=tools.uv_environment(layout, env), check=True)
"""


def _run_id() -> int:
    # xdist workers are children of the controlling pytest process: one warm cache per test run.
    return os.getppid() if os.environ.get("PYTEST_XDIST_WORKER") else os.getpid()


@pytest.fixture(scope="session")
def warm_cache(heroku):
    """A CACHE_DIR in which launchpack's build tools (uv, pip, Poetry, Pipenv, pip-tools) are
    installed and uv's cache holds the packages the fixture apps use; made once per test run by
    the build user, exactly as a first build would. Tests take copies (warm_cache_copy)."""
    base = f"/tmp/launchpack-warm-{_run_id()}"
    cache = os.path.join(base, "cache")
    with open(base + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isfile(os.path.join(base, "complete")):
            shutil.rmtree(base, ignore_errors=True)
            os.makedirs(cache)
            os.chmod(base, 0o755)
            heroku_harness.chown_tree(base, heroku_harness.BUILD_USER)
            result = heroku.run_as_builder(
                ["/usr/bin/python3", "-c", PREWARM, cache], extra_env={"PYTHONPATH": heroku.buildpack}
            )
            assert result.ok, result.output
            open(os.path.join(base, "complete"), "w").close()
    return cache


@pytest.fixture
def warm_cache_copy(heroku, warm_cache):
    """A new CACHE_DIR with the warm cache's content. Hardlinked: a cache's entries are written
    once under a temporary name and never modified in place, so copies can share files."""

    def copy() -> str:
        target = heroku.empty_cache()
        os.rmdir(target)
        subprocess.run(["cp", "-al", warm_cache, target], check=True)
        return target

    return copy


def pytest_sessionfinish(session):
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        base = f"/tmp/launchpack-warm-{os.getpid()}"
        shutil.rmtree(base, ignore_errors=True)
        if os.path.exists(base + ".lock"):
            os.unlink(base + ".lock")
