"""Installing with uv: requirements files, a project (`pip install .`), or a uv.lock (`uv sync`).

uv runs from the tools directory in the cache and installs into the app's environment with
``--python``: the environment gets no uv and no pip. Its cache (CACHE_DIR/launchpack/uv-cache)
keeps every downloaded wheel and every wheel built from an sdist, so nothing is downloaded or
compiled twice. Files are hardlinked out of the cache (see tools.uv_environment) and
byte-compiled, so the app starts without writing .pyc files.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime import errors, pythonenv
from runtime.installers import tools
from runtime.layout import Layout
from runtime.output import Output

OUTDATED_LOCK = "needs to be updated, but `--locked` was provided"


def _pip_install(args: list[str], layout: Layout, env: Mapping[str, str], out: Output) -> int:
    binary = tools.uv(layout, env, out)
    compile_ = ["--compile-bytecode"] if layout.compile_bytecode else []
    command = [binary, "pip", "install", "--python", pythonenv.python_of(layout.venv_dir), *compile_, *args]
    code, _ = out.stream(command, cwd=layout.app_dir, env=tools.uv_environment(layout, env))
    return code


def install_requirements(
    files: list[str], layout: Layout, env: Mapping[str, str], out: Output, extras: list[str] | None = None
) -> None:
    args = [arg for name in files for arg in ("-r", name)] + list(extras or [])
    code = _pip_install(args, layout, env, out)
    if code != 0:
        raise errors.DependencyInstallFailed(source=", ".join(files), installer="uv pip install", code=code)


def install_project(
    files: tuple[str, ...], layout: Layout, env: Mapping[str, str], out: Output, extras: list[str] | None = None
) -> None:
    code = _pip_install([".", *(extras or [])], layout, env, out)
    if code != 0:
        raise errors.DependencyInstallFailed(source=", ".join(files), installer="uv pip install .", code=code)


def install_packages(requirements: list[str], layout: Layout, env: Mapping[str, str], out: Output) -> None:
    """launchpack's own additions (the web server)."""
    code = _pip_install(requirements, layout, env, out)
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
    code, output = out.stream(command, cwd=layout.app_dir, env=sync_env)
    if code != 0 and OUTDATED_LOCK in output:
        raise errors.LockFileOutdated(lock="uv.lock", manifest="pyproject.toml", tool="uv", command="uv lock")
    if code != 0:
        raise errors.DependencyInstallFailed(source="uv.lock", installer="uv sync", code=code)
