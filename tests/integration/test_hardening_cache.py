"""OS-level faults during a Heroku build (issue 10, point 4): a file the build cannot read, the
cache's disk full, a read-only cache, the build directory's disk full.

Each is either a catalogued error (non-zero exit, the path and the fix, no traceback, a failed
copy's output capped) or, for a cache that cannot be written, a warning and a green build that
saves nothing; and the next build with the fault removed succeeds. The disks are real: small
tmpfs mounts and read-only bind mounts (the tests run as root), always unmounted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

import pytest

from tests.conftest import EXAMPLES, write
from tests.harness.heroku import BUILD_USER, Heroku, chown_tree, ids

pytestmark = pytest.mark.integration


@contextlib.contextmanager
def mounted(path: str, *commands: list[str]):
    """Run mount commands on path (an existing directory), and unmount it whatever happens."""
    try:
        for command in commands:
            subprocess.run(command, check=True)
        yield path
    finally:
        for _command in commands:  # one umount per mount made on top of path
            if subprocess.run(["umount", path], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", path], capture_output=True)


def tmpfs(path: str, size: int):
    uid, gid = ids(BUILD_USER)
    options = f"size={size},mode=0755,uid={uid},gid={gid}"
    return mounted(path, ["mount", "-t", "tmpfs", "-o", options, "tmpfs", path])


def read_only(path: str):
    return mounted(path, ["mount", "--bind", path, path], ["mount", "-o", "remount,bind,ro", path])


def fill(directory: str, leave: int) -> str:
    """A file taking all of directory's filesystem but `leave` bytes."""
    info = os.statvfs(directory)
    free = info.f_bavail * info.f_frsize
    filler = os.path.join(directory, "filler")
    with open(filler, "wb") as handle:
        os.posix_fallocate(handle.fileno(), 0, max(free - leave, 0))
    return filler


def tree_bytes(path: str) -> int:
    return int(subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True).stdout.split()[0])


def assert_no_traceback(output: str) -> None:
    assert "Traceback" not in output and "Internal error" not in output, output


def error_block(output: str) -> str:
    """The ' !     ' lines of a failed build (blank ones are ' !'), without the prefix."""
    return "\n".join(line[7:] for line in output.splitlines() if line.startswith(" !")).strip("\n")


def serves(heroku: Heroku, slug, path: str = "/") -> None:
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        response = dyno.get(path)
        assert response.status == 200, response.text
        dyno.terminate()


def test_an_app_file_the_build_cannot_read_fails_the_build_naming_it(heroku: Heroku, app_copy):
    """Tests run as root, but the harness builds as an unprivileged user: chmod 000 holds."""
    app = app_copy("deps_none")
    write(os.path.join(app, "secret.txt"), "s3cret\n")
    write(os.path.join(app, "bin", "post_compile"), "#!/bin/bash\nchmod 000 secret.txt\n", mode=0o755)
    cache = heroku.new_cache()

    failed = heroku.build(app, cache_dir=cache)
    assert not failed.compile.ok, failed.compile.output
    assert_no_traceback(failed.compile.output)
    assert error_block(failed.compile.output) == (
        "Error: launchpack cannot read secret.txt in your app\n"
        "\n"
        "Permission denied. The build reads every file of your app (to tell whether anything changed since\n"
        "the last build), and the platform would fail to package an unreadable file into the slug.\n"
        "\n"
        "Make it readable (chmod a+r secret.txt) or delete it. If a build hook (bin/pre_compile, bin/post_compile,\n"
        ".launchpack/build) makes it unreadable, change the hook; if it is a secret, keep it out of the\n"
        "repository and pass it as a config var."
    )

    os.unlink(os.path.join(app, "bin", "post_compile"))
    fixed = heroku.build(app, cache_dir=cache)
    assert fixed.compile.ok, fixed.compile.output
    serves(heroku, fixed)


def test_a_full_cache_disk_warns_and_the_build_deploys_without_saving(heroku: Heroku, tmp_path):
    seed = heroku.seed_cache
    assert seed
    cache = heroku.empty_cache()
    # Room for the seed (the build's tools, uv's cache with every wheel examples/django needs),
    # then filled up to 1 MB: the environment (~90 MB) cannot be saved, whatever else fits.
    with tmpfs(cache, tree_bytes(seed) + 512 * 1024 * 1024):
        subprocess.run(["cp", "-a", seed + "/.", cache], check=True)
        chown_tree(cache, BUILD_USER)
        filler = fill(cache, leave=1024 * 1024)

        full = heroku.build(os.path.join(EXAMPLES, "django"), cache_dir=cache)
        assert full.compile.ok, full.compile.output
        assert_no_traceback(full.compile.output)
        warnings = [line[16:] for line in full.compile.output.splitlines() if line.startswith(" !     Warning: ")]
        # uv unpacks every package into its cache: it installs again with a temporary one.
        assert "The build cache is full: installing again with a temporary package cache (not kept)." in warnings
        summary = warnings.index(next(w for w in warnings if w.startswith("The build cache could not be written")))
        assert warnings[summary].startswith(
            f"The build cache could not be written (No space left on device: {cache}/launchpack/"
        ), full.compile.output
        assert warnings[summary + 1].startswith("Not kept for the next build: "), full.compile.output
        assert "the app's Python environment" in warnings[summary + 1], full.compile.output
        assert "heroku builds:cache:purge" in full.compile.output
        assert len(full.compile.output.splitlines()) < 200  # no list of every file the copy failed on
        serves(heroku, full, "/admin/login/")
        assert not os.path.exists(os.path.join(cache, "launchpack", "env", "current"))
        assert not [n for n in os.listdir(os.path.join(cache, "launchpack", "env")) if n.startswith("env-")]

        os.unlink(filler)
        again = heroku.build(os.path.join(EXAMPLES, "django"), cache_dir=cache)
        assert again.compile.ok, again.compile.output
        assert "Warning" not in again.compile.output, again.compile.output
        reused = heroku.build(os.path.join(EXAMPLES, "django"), cache_dir=cache)
        assert "Reusing the app's Python environment: nothing it depends on changed" in reused.compile.output
        serves(heroku, reused, "/admin/login/")


def test_a_read_only_cache_warns_and_the_build_deploys_without_it(heroku: Heroku, app_copy):
    app = app_copy("deps_none")
    config = {"LAUNCHPACK_SERVER": "gunicorn"}  # without a cache, mod_wsgi would be compiled
    cache = heroku.new_cache()
    before = sorted(os.listdir(cache))
    with read_only(cache):
        built = heroku.build(app, config, cache_dir=cache)
        assert built.compile.ok, built.compile.output
        assert_no_traceback(built.compile.output)
        assert (
            f" !     Warning: The build cache {cache} cannot be written (Read-only file system): building without it\n"
        ) in built.compile.output
        assert "mounted read-only" in built.compile.output
        serves(heroku, built)
    assert sorted(os.listdir(cache)) == before

    writable = heroku.build(app, config, cache_dir=cache)
    assert writable.compile.ok, writable.compile.output
    assert "Warning" not in writable.compile.output, writable.compile.output
    assert os.path.isdir(os.path.join(cache, "launchpack", "env", "current"))


def test_a_full_build_directory_fails_naming_it_and_the_next_build_works(heroku: Heroku, app_copy):
    app = app_copy("deps_requirements")
    cache = heroku.new_cache()
    build_dir = heroku._mkdtemp("build_")
    with tmpfs(build_dir, 4 * 1024 * 1024):
        shutil.copytree(app, build_dir, symlinks=True, dirs_exist_ok=True)
        chown_tree(build_dir, BUILD_USER)
        failed = heroku.compile(build_dir, cache)
    assert not failed.ok, failed.output
    assert_no_traceback(failed.output)
    block = error_block(failed.output)
    assert block.startswith("Error: The build directory is out of space\n\nNo space left on device while writing "), (
        failed.output
    )
    assert f" {build_dir}/" in block.splitlines()[2]
    assert "Make the app smaller" in block
    assert len(failed.output.splitlines()) < 200, failed.output  # capped, not one line per file

    fixed = heroku.build(app, cache_dir=cache)
    assert fixed.compile.ok, fixed.compile.output
    serves(heroku, fixed, "/?six")
