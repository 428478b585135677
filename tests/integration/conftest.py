"""Fixtures for the `launchpack` command's tests (tests/harness/cli.py).

Two expensive artifacts are made once per test run and shared by the pytest-xdist workers
(under a file lock, in the directory pytest gives the whole run): the installed command, and a
warm cache (pip's tools env and a wheelhouse holding what the example Django app and the web
server need). Each test gets its own HOME and LAUNCHPACK_HOME with a copy of that cache, which
is what a developer's machine has after building any project once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.conftest import EXAMPLES
from tests.harness import cli as cli_harness


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


@pytest.fixture
def tmp_path():
    """Like pytest's tmp_path, but reachable by the unprivileged accounts the tests run things as
    (the developer running launchpack, mod_wsgi's children): pytest's own are private to root."""
    base = tempfile.mkdtemp(prefix="launchpack-cli-test-", dir="/tmp")
    os.chmod(base, 0o755)
    yield pathlib.Path(base)
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def launchpack_bin(shared_dir) -> str:
    """The bin dir of launchpack installed from this checkout (pipx-style, its own venv), which the
    developer account can run (the run's shared dir, unlike pytest's basetemp, is not private)."""
    cli_harness.ensure_developer()
    venv = os.path.join(shared_dir, "cli-venv")
    with locked(os.path.join(shared_dir, "install.lock")):
        if not os.path.exists(os.path.join(venv, "bin", "launchpack")):
            shutil.rmtree(venv, ignore_errors=True)
            cli_harness.install(venv)
    return os.path.join(venv, "bin")


@dataclass(frozen=True)
class Warm:
    cache_dir: str  # a LAUNCHPACK_HOME/cache after one build of examples/django
    django_admin: str  # django-admin from that build's environment (to run startproject)


@pytest.fixture(scope="session")
def warm(shared_dir, launchpack_bin) -> Warm:
    root = os.path.join(shared_dir, "warm")
    home = os.path.join(root, "launchpack-home")
    done = os.path.join(root, "done")
    with locked(os.path.join(shared_dir, "warm.lock")):
        if not os.path.exists(done):
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(os.path.join(root, "home"))
            app = os.path.join(root, "django")
            shutil.copytree(os.path.join(EXAMPLES, "django"), app)
            cli = cli_harness.Cli(launchpack_bin, os.path.join(root, "home"), home, workspace=root)
            result = cli.run(["build"], cwd=app)
            assert result.returncode == 0, result.output
            open(done, "w").close()
    return Warm(os.path.join(home, "cache"), os.path.join(home, "envs", "django", "venv", "bin", "django-admin"))


@pytest.fixture
def cli(tmp_path, launchpack_bin, warm) -> cli_harness.Cli:
    """launchpack with a scratch HOME and LAUNCHPACK_HOME (holding a copy of the warm cache)."""
    home = tmp_path / "home"
    home.mkdir()
    launchpack_home = tmp_path / "launchpack-home"
    launchpack_home.mkdir()
    shutil.copytree(warm.cache_dir, launchpack_home / "cache", symlinks=True)
    return cli_harness.Cli(launchpack_bin, str(home), str(launchpack_home), workspace=str(tmp_path))
