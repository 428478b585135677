"""Shared fixtures: the Heroku harness, example apps, HTML helpers."""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest

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


def warm_cache(harness: heroku_harness.Heroku, shared: str, server: str) -> WarmCache:
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
            # Everything but the environment store (cache/launchpack/env): wheelhouse, tools.
            skip_env = lambda directory, names: ["launchpack"] if directory == cache else []  # noqa: E731
            shutil.copytree(cache, target + "-wheels", symlinks=True, ignore=skip_env)
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
    harness.seed_cache = warm_cache(harness, shared_dir, "mod_wsgi").wheels
    yield harness
    harness.cleanup()
    shutil.rmtree(harness.buildpack, ignore_errors=True)


@pytest.fixture(scope="session")
def warm_caches(heroku, shared_dir):
    """server name -> WarmCache, built on first use."""

    class Caches(dict):
        def __missing__(self, server: str) -> WarmCache:
            self[server] = warm_cache(heroku, shared_dir, server)
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
