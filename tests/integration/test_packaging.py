"""`make dist`: the packaged buildpack works on its own, under both APIs.

The CNB side runs the same lifecycle tests against it (tests/integration/test_cnb.py, the "dist"
parameter); here: the tarball's layout, and a Heroku build from the tarball as Heroku would
fetch it from a buildpack URL.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tarfile
import tempfile

import pytest
import tomllib

from tests.conftest import FIXTURES, REPO
from tests.harness import cli as cli_harness
from tests.harness.heroku import STACK_PATH, Heroku, as_user, stage_buildpack

pytestmark = pytest.mark.integration
EXECUTABLES = ("bin/detect", "bin/compile", "bin/release", "bin/build")


def test_tarball_has_bin_at_its_root_with_executable_bits_and_no_bytecode(packaged):
    with tarfile.open(packaged.tarball) as archive:
        members = {m.name.removeprefix("./"): m for m in archive.getmembers()}
    for name in EXECUTABLES:
        assert name in members, sorted(members)
        assert members[name].mode & stat.S_IXUSR and members[name].mode & stat.S_IXOTH, name
    for name in ("buildpack.toml", "lib/run.py", "lib/stack-python.sh", "runtime/main.py", "runtime/slug/env.sh",
                 "runtime/adapters/cnb.py", "procfile_gen/__init__.py"):
        assert name in members, name
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in members)
    assert {m.uid for m in members.values()} == {0}
    # The directory next to it is the same buildpack.
    on_disk = {os.path.relpath(os.path.join(root, f), packaged.directory) for root, _d, files in os.walk(packaged.directory) for f in files}
    assert on_disk == {n for n, m in members.items() if m.isfile()}
    with open(os.path.join(packaged.directory, "buildpack.toml"), "rb") as handle:
        descriptor = tomllib.load(handle)
    assert descriptor["api"] == "0.10" and descriptor["buildpack"]["id"] == "launchpack/python"
    assert {(t["os"], t["arch"]) for t in descriptor["targets"]} == {("linux", "amd64"), ("linux", "arm64")}


def test_heroku_builds_and_serves_from_the_tarball(packaged, heroku, tmp_path):
    """`heroku buildpacks:set https://.../launchpack-buildpack.tgz`: Heroku downloads and unpacks it."""
    unpacked = tmp_path / "buildpack"
    unpacked.mkdir()
    subprocess.run(["tar", "-xzf", packaged.tarball, "-C", str(unpacked)], check=True)
    harness = Heroku(stage_buildpack(str(unpacked)))
    try:
        config = {"LAUNCHPACK_STATIC_URL": "/assets/", "LAUNCHPACK_STATIC_ROOT": "static"}
        slug = harness.build(os.path.join(FIXTURES, "wsgi_app"), config)
        assert slug.compile.ok, slug.compile.output
        with harness.start(slug, config=config) as dyno:
            dyno.wait_until_serving()
            assert dyno.get("/hello").text == "Hello from plain WSGI at /hello\n"
            assert b"rebeccapurple" in dyno.get("/assets/site.css").body
            assert dyno.terminate() < 30
    finally:
        harness.cleanup()
        shutil.rmtree(harness.buildpack, ignore_errors=True)


def test_heroku_builds_and_serves_from_a_clone_of_the_repository(heroku, tmp_path):
    """`heroku buildpacks:set https://github.com/ORG/REPO`: Heroku clones the repository and runs
    bin/detect, bin/compile and bin/release at its root (the root bin/ runs buildpack/bin/)."""
    clone = tmp_path / "clone"
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", REPO, str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "checkout", "--quiet", head.stdout.strip()], check=True)
    harness = Heroku(stage_buildpack(str(clone)), seed_cache=heroku.seed_cache)
    root_bin = os.path.join(harness.buildpack, "bin")
    harness.bin = lambda name: os.path.join(root_bin, name)  # the clone's root, never buildpack/bin
    try:
        for name in ("detect", "compile", "release"):
            assert os.access(os.path.join(root_bin, name), os.X_OK), name
        slug = harness.build(os.path.join(FIXTURES, "wsgi_app"))
        assert slug.compile.ok, slug.compile.output
        assert "default_process_types" in slug.release_yaml
        with harness.start(slug) as dyno:
            dyno.wait_until_serving()
            assert dyno.get("/hello").text == "Hello from plain WSGI at /hello\n"
            assert dyno.terminate() < 30
    finally:
        harness.cleanup()
        shutil.rmtree(harness.buildpack, ignore_errors=True)


def tree(top: str) -> set[str]:
    return {os.path.relpath(os.path.join(root, name), top) for root, dirs, files in os.walk(top) for name in dirs + files}


def test_pip_install_from_a_checkout_the_user_cannot_write_to():
    """The README's `pip install .` from a read-only checkout owned by another user (root): the
    build backend must write nothing into the source tree (setuptools wrote launchpack.egg-info)."""
    cli_harness.ensure_developer()
    work = tempfile.mkdtemp(prefix="launchpack-ro-", dir="/tmp")
    try:
        os.chmod(work, 0o755)
        checkout = os.path.join(work, "checkout")
        os.mkdir(checkout)
        cli_harness.copy_sources(checkout)
        subprocess.run(["chmod", "-R", "a-w,a+rX", checkout], check=True)
        before = tree(checkout)
        home = os.path.join(work, "home")
        os.mkdir(home)
        cli_harness.chown_tree(home, cli_harness.DEVELOPER)
        venv = os.path.join(home, "venv")
        env = {"PATH": STACK_PATH, "HOME": home, "PIP_CONFIG_FILE": "/dev/null"}
        script = (
            f"cd {checkout} && /usr/bin/python3 -m venv {venv} && "
            f"{venv}/bin/pip install --quiet --disable-pip-version-check . && {venv}/bin/launchpack --version"
        )
        result = subprocess.run(
            as_user(cli_harness.DEVELOPER, env, ["bash", "-c", script]), capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "launchpack 0.1.0"
        installed = subprocess.run(
            [f"{venv}/bin/python", "-c", "import runtime, os; print(os.path.dirname(runtime.__file__))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for name in os.listdir(os.path.join(REPO, "runtime", "slug")):
            if name != "__pycache__":
                assert os.path.isfile(os.path.join(installed, "slug", name)), name  # package data kept
        assert tree(checkout) == before  # nothing written into the checkout
    finally:
        subprocess.run(["chmod", "-R", "u+w", work], check=False)
        shutil.rmtree(work, ignore_errors=True)
