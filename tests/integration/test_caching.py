"""The build cache end to end: reuse, every invalidation reason, and builds killed with kill -9."""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import time

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import BUILD_USER, Heroku, as_user

pytestmark = pytest.mark.integration


def ask(heroku: Heroku, slug, query: str = "six,idna") -> str:
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        response = dyno.get("/?" + query)
        assert response.status == 200, response.text
        dyno.terminate()
        return response.text


def discarded(output: str) -> list[str]:
    """The reasons listed under 'Discarding cache since:'."""
    match = re.search(r"-----> Discarding cache since:\n((?:       - .*\n)+)", output)
    return [line.strip()[2:] for line in match.group(1).splitlines()] if match else []


def test_reuse_and_each_invalidation_reason(heroku: Heroku, app_copy, warm_cache_copy):
    app = app_copy("deps_requirements")
    cache = warm_cache_copy()
    first = heroku.build(app, cache_dir=cache)
    assert first.compile.ok, first.compile.output

    # Nothing changed: the environment is reused as is, no installer runs.
    same = heroku.build(app, cache_dir=cache)
    assert same.compile.ok, same.compile.output
    assert "Reusing the app's Python environment: nothing it depends on changed" in same.compile.output
    assert "Installing dependencies" not in same.compile.output and "Resolved" not in same.compile.output
    assert "six 1.16.0" in ask(heroku, same)

    # A nested constraints file changed: named, and honoured.
    write(os.path.join(app, "requirements", "constraints.txt"), "six==1.17.0\n")
    nested = heroku.build(app, cache_dir=cache)
    assert nested.compile.ok, nested.compile.output
    assert discarded(nested.compile.output) == ["requirements/constraints.txt changed"]
    assert "six 1.17.0" in ask(heroku, nested)

    # A requirements file added by -r, and the installer switched to pip.
    write(os.path.join(app, "requirements", "extra.txt"), "idna\n")
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("-r requirements/extra.txt\n")
    switched = heroku.build(app, {"LAUNCHPACK_INSTALLER": "pip"}, cache_dir=cache)
    assert switched.compile.ok, switched.compile.output
    assert discarded(switched.compile.output) == [
        "the installer changed (uv 0.13.9 -> pip 26.3)",
        "requirements.txt changed",
        "requirements/extra.txt was added",
    ]
    assert "idna 3." in ask(heroku, switched)

    # Another stack (platform variable, not a config var).
    stacked = heroku.build(app, {"LAUNCHPACK_INSTALLER": "pip"}, cache_dir=cache, extra_env={"STACK": "heroku-26"})
    assert stacked.compile.ok, stacked.compile.output
    assert discarded(stacked.compile.output) == ["the stack changed (heroku-24 -> heroku-26)"]


def compile_and_kill(heroku: Heroku, build_dir: str, cache: str, when: str, delay: float, crash_at: str = "") -> str:
    """Run bin/compile as the build user and kill -9 its whole process group (uv included) once a
    line matching `when` appears plus `delay` seconds, or let LAUNCHPACK_CRASH_AT kill it."""
    env_dir = heroku._env_dir({})
    home = heroku._mkdtemp("home_")
    env = heroku.build_env(home, {"LAUNCHPACK_CRASH_AT": crash_at} if crash_at else None)
    command = as_user(BUILD_USER, env, [heroku.bin("compile"), build_dir, cache, env_dir])
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, cwd="/tmp"
    )
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if when and re.search(when, line):
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=300)
    assert proc.returncode != 0, "".join(seen)  # it really was killed
    return "".join(seen)


@pytest.mark.parametrize(
    "when, delay, crash_at",
    [
        (r"Installing dependencies", 0.0, ""),  # as the installer starts
        (r"Resolved \d+ packages", 0.3, ""),  # while uv installs and compiles
        ("", 0, "env-save-copied"),  # environment copied into the cache, not yet made current
        ("", 0, "env-save-swapped"),  # new entry current, the old one not yet removed
        ("", 0, "step-save-copied"),  # collected static files half saved
    ],
)
def test_build_killed_at_any_point_leaves_a_usable_cache(
    heroku: Heroku, app_copy, warm_cache_copy, when, delay, crash_at
):
    app = app_copy("django")
    cache = warm_cache_copy()
    # A previous good build, so that there is an old entry to keep or replace.
    assert heroku.build(os.path.join(FIXTURES, "deps_none"), cache_dir=cache).compile.ok
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("six\n")
    compile_and_kill(heroku, heroku.stage_app(app), cache, when, delay, crash_at)
    after = heroku.build(app, cache_dir=cache)
    assert after.compile.ok, after.compile.output
    if crash_at == "env-save-swapped":  # the killed build had committed its environment
        assert "Reusing the app's Python environment" in after.compile.output
    with heroku.start(after) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/admin/login/").status == 200
        dyno.terminate()
    # No half-written entries are left behind once a build completes.
    env_root = os.path.join(cache, "launchpack", "env")
    assert len([n for n in os.listdir(env_root) if n.startswith("env-")]) == 1, os.listdir(env_root)
    assert not [n for n in os.listdir(os.path.join(cache, "launchpack", "tools")) if n.startswith(".tmp-")]


def site_packages_file(root: str, name: str) -> str:
    (path,) = glob.glob(os.path.join(root, "lib", "python3*", "site-packages", name))
    return path


def test_a_cached_environment_file_truncated_after_the_save_is_detected_and_rebuilt(heroku: Heroku, app_copy):
    """A dependency's file truncated in the saved environment (a fault, or a hook writing through
    a hardlink) used to be reused as is, the import check skipped as unchanged: every worker then
    crashed. Now the restore checks every file against the manifest saved with it."""
    app = app_copy("deps_requirements")
    cache = heroku.new_cache()
    assert heroku.build(app, cache_dir=cache).compile.ok
    entry = os.path.join(os.path.realpath(os.path.join(cache, "launchpack", "env", "current")), "venv")
    six = site_packages_file(entry, "six.py")
    size = os.path.getsize(six)
    os.truncate(six, 0)  # in place: the same inode, as the cache's hardlinks share it

    again = heroku.build(app, cache_dir=cache)
    assert again.compile.ok, again.compile.output
    shown = os.path.relpath(six, entry)
    assert discarded(again.compile.output) == [
        f"the cached environment's {shown} changed since it was saved (size {size} -> 0)"
    ], again.compile.output
    assert "Reusing the app's Python environment" not in again.compile.output
    assert (
        os.path.getsize(site_packages_file(os.path.join(again.path, ".launchpack-runtime", "venv"), "six.py")) == size
    )
    with heroku.start(again) as dyno:
        dyno.wait_until_serving()
        response = dyno.get("/import?six")
        assert response.status == 200 and "six imported" in response.text, response.text
        dyno.terminate()
    # And the rebuilt environment is trusted again.
    third = heroku.build(app, cache_dir=cache)
    assert "Reusing the app's Python environment: nothing it depends on changed" in third.compile.output


@pytest.mark.parametrize("fault", ["garbage", "not executable"])
def test_a_broken_cached_uv_is_detected_and_fetched_again(heroku: Heroku, app_copy, fault):
    """Only the execute bit was checked: a truncated or overwritten uv binary failed every later
    build with `OSError: Exec format error`."""
    app = app_copy("deps_requirements")
    cache = heroku.new_cache()
    assert heroku.build(app, cache_dir=cache).compile.ok
    (uv,) = glob.glob(os.path.join(cache, "launchpack", "tools", "uv-*", "bin", "uv"))
    size = os.path.getsize(uv)
    if fault == "garbage":
        with open(uv, "r+b") as handle:  # in place, keeping its mode
            handle.truncate(0)
            handle.write(b"garbage")
        reason = f"the cached uv 0.13.9's bin/uv changed since it was saved (size {size} -> 7)"
    else:
        os.chmod(uv, 0o644)
        reason = "the cached uv 0.13.9's bin/uv is not executable"
    with open(os.path.join(app, "requirements.txt"), "a") as handle:
        handle.write("idna\n")  # so that this build runs uv

    again = heroku.build(app, cache_dir=cache)
    assert again.compile.ok, again.compile.output
    assert f" !     Warning: {reason}: installing it again\n" in again.compile.output, again.compile.output
    assert "Installing uv==0.13.9" in again.compile.output
    assert "idna 3." in ask(heroku, again)
    assert os.path.getsize(uv) == size and os.access(uv, os.X_OK)
