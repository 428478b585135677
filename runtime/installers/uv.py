"""Installing with uv: requirements files, a project (`pip install .`), or a uv.lock (`uv sync`).

uv runs from the tools directory in the cache and installs into the app's environment with
``--python``: the environment gets no uv and no pip. Its cache (CACHE_DIR/launchpack/uv-cache)
keeps every downloaded wheel and every wheel built from an sdist. Files are hardlinked out of
the cache (see tools.uv_environment) and byte-compiled, so the app starts without writing .pyc
files.

uv reuses a wheel it built only while its HTTP cache says the sdist it came from is fresh. An
index (or a proxy in front of it) that sends no Cache-Control or ETag makes every cached sdist
stale, so uv downloads it again and compiles it again (mod_wsgi: ~10 s). So wheels built from
an index's sdists are also kept by file name in a wheelhouse and offered with --find-links: uv
prefers a wheel to an sdist of the same version, so nothing is compiled twice.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import shutil
from collections.abc import Mapping

from runtime import envcache, errors, faults, pythonenv
from runtime.installers import failure, tools
from runtime.layout import Layout
from runtime.output import Output

OUTDATED_LOCK = "needs to be updated, but `--locked` was provided"
# uv: "failed to write to file `/path`: No space left on device (os error 28)"
NO_SPACE_PATH = re.compile(r"`([^`]+)`: No space left on device")


def keep_built_wheels(layout: Layout) -> None:
    """Copy the wheels uv built from an index's sdists into the wheelhouse. Only index sdists
    (uv's sdists-*/pypi and sdists-*/index): a wheel built from the app's own directory or a
    VCS checkout is named by a version that does not change when its code does."""
    house = tools.wheelhouse(layout)
    cache = tools.uv_cache(layout)
    for kind in ("pypi", "index"):
        for wheel in glob.glob(os.path.join(cache, "sdists-v*", kind, "**", "*.whl"), recursive=True):
            target = os.path.join(house, os.path.basename(wheel))
            if not os.path.exists(target):
                partial = target + ".partial"  # a build killed mid-copy leaves no broken wheel
                try:
                    os.makedirs(house, exist_ok=True)
                    shutil.copyfile(wheel, partial)
                    os.replace(partial, target)
                except OSError as exc:  # a full cache: this build is fine without it
                    with contextlib.suppress(OSError):
                        os.unlink(partial)
                    envcache.note_unsaved("the wheels built from source (" + os.path.basename(wheel) + ")", exc)
                    return


def no_space(output: str) -> str | None:
    """The path uv could not write for lack of space, "" if it names none; None if it had space."""
    if "No space left on device" not in output and "os error 28" not in output:
        return None
    named = NO_SPACE_PATH.search(output)
    return named.group(1) if named else ""


def run_uv(command: list[str], layout: Layout, uv_env: dict[str, str], out: Output) -> tuple[int, str]:
    """Run uv; when the cache's disk is full (uv unpacks every package into its cache before
    linking it), run it again with a cache outside CACHE_DIR rather than fail a build the cache
    only speeds up. A full build directory is the failure it is (BuildDirFull)."""
    code, output = out.stream(command, cwd=layout.app_dir, env=uv_env)
    full = no_space(output) if code != 0 else None
    if full is None:
        return code, output
    if layout.cache_dir and (faults.within(full, layout.cache_dir) or faults.within(full, uv_env.get("UV_CACHE_DIR"))):
        envcache.note_unsaved(
            "the packages downloaded or built by this build", OSError(errno.ENOSPC, "No space left on device", full)
        )
        out.warn("The build cache is full: installing again with a temporary package cache (not kept).")
        elsewhere = {**uv_env, "UV_CACHE_DIR": tools.scratch("uv-cache")}
        code, output = out.stream(command, cwd=layout.app_dir, env=elsewhere)
        full = no_space(output) if code != 0 else None
    if full is not None:
        raise errors.BuildDirFull(path=full or layout.app_dir, reason="No space left on device", details="")
    return code, output


def _pip_install(args: list[str], layout: Layout, env: Mapping[str, str], out: Output) -> tuple[int, str]:
    binary = tools.uv(layout, env, out)
    compile_ = ["--compile-bytecode"] if layout.compile_bytecode else []
    uv_env = tools.uv_environment(layout, env)
    house = tools.wheelhouse(layout)
    # Added to the app's own find-links, if any. Safe in hash-checking mode: uv skips a wheel
    # whose hash the requirements file does not list and builds the sdist it names.
    if os.path.isdir(house):
        uv_env["UV_FIND_LINKS"] = ",".join(filter(None, (uv_env.get("UV_FIND_LINKS"), house)))
    command = [binary, "pip", "install", "--python", pythonenv.python_of(layout.venv_dir), *compile_, *args]
    code, output = run_uv(command, layout, uv_env, out)
    if code == 0:
        keep_built_wheels(layout)
    return code, output


def install_requirements(
    files: list[str], layout: Layout, env: Mapping[str, str], out: Output, extras: list[str] | None = None
) -> None:
    args = [arg for name in files for arg in ("-r", name)] + list(extras or [])
    code, output = _pip_install(args, layout, env, out)
    if code != 0:
        raise failure.explain(output, ", ".join(files), "uv pip install", code)


def install_project(
    files: tuple[str, ...], layout: Layout, env: Mapping[str, str], out: Output, extras: list[str] | None = None
) -> None:
    code, output = _pip_install([".", *(extras or [])], layout, env, out)
    if code != 0:
        raise failure.explain(output, ", ".join(files), "uv pip install .", code)


def install_packages(requirements: list[str], layout: Layout, env: Mapping[str, str], out: Output) -> None:
    """launchpack's own additions (the web server)."""
    code, _output = _pip_install(requirements, layout, env, out)
    if code != 0:
        raise errors.ToolInstallFailed(tool=", ".join(requirements), command="uv pip install", code=code)


def sync_lock(layout: Layout, env: Mapping[str, str], out: Output) -> None:
    """`uv sync --locked` into the app's environment: exactly the lock's packages, no dev groups."""
    binary = tools.uv(layout, env, out)
    sync_env = tools.uv_environment(layout, env)
    sync_env["UV_PROJECT_ENVIRONMENT"] = layout.venv_dir
    command = [
        binary, "sync", "--locked", "--no-default-groups",
        *(["--compile-bytecode"] if layout.compile_bytecode else []),
        "--python", pythonenv.python_of(layout.venv_dir),
    ]  # fmt: skip
    code, output = run_uv(command, layout, sync_env, out)
    if code != 0 and OUTDATED_LOCK in output:
        raise errors.LockFileOutdated(lock="uv.lock", manifest="pyproject.toml", tool="uv", command="uv lock")
    if code != 0:
        raise failure.explain(output, "uv.lock", "uv sync", code)
