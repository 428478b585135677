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


@pytest.fixture(scope="session")
def heroku():
    # pytest-xdist workers share the machine: create the users once, under a lock.
    with open("/tmp/launchpack-test-users.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        heroku_harness.ensure_users()
    harness = heroku_harness.Heroku(heroku_harness.stage_buildpack(os.environ.get("LAUNCHPACK_TEST_BUILDPACK")))
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
