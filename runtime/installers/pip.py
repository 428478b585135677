"""Installing with pip (LAUNCHPACK_INSTALLER=pip, the fallback to uv), run from a tools venv.

pip runs from its own venv in the cache (``pip --python <app venv>``), so the app's environment
(and the slug) never contains the build's pip.

Downloads and builds go through a wheelhouse in the cache dir: ``pip wheel`` resolves against
the index but reuses any wheel already in the wheelhouse ("File was already downloaded"), and
the install then takes every wheel from the wheelhouse. We do not rely on pip's HTTP cache, which stores
nothing when an index or mirror sends no caching headers; a wheelhouse also means a package
without a wheel (mod_wsgi, uWSGI) is compiled once, not on every build. Wheels are built into a
temporary directory and moved into the wheelhouse one by one (an atomic rename), so a build
killed meanwhile never leaves a truncated wheel there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping

from runtime import errors, pythonenv
from runtime.installers import failure, tools
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter


def _pip(tools_venv: str) -> list[str]:
    return [*tools.module_command(tools_venv, "pip"), *tools.PIP_FLAGS]


def _install(
    interpreter: Interpreter, args: list[str], layout: Layout, env: Mapping[str, str], out: Output
) -> tuple[int, str]:
    """pip install ARGS into the app env, via the wheelhouse when there is a cache dir."""
    tools_venv = tools.python_tool("pip", interpreter, layout, env, out)
    env = tools.tool_environment(env)
    wheelhouse = layout.cache("launchpack", "wheels")
    install = _pip(tools_venv) + ["--python", pythonenv.python_of(layout.venv_dir), "install", "--progress-bar", "off"]
    if not layout.compile_bytecode:
        install.append("--no-compile")
    if not wheelhouse:
        return out.stream(install + ["--no-cache-dir", *args], cwd=layout.app_dir, env=env)
    os.makedirs(wheelhouse, exist_ok=True)
    fresh = tempfile.mkdtemp(prefix=".tmp-", dir=wheelhouse)
    try:
        # pip wheel runs on the tools env's interpreter: the same Python version as the app's env.
        # --use-pep517: a legacy setup.py sdist (mod_wsgi, uWSGI) is built in an isolated
        # environment that has `wheel`, which the tools env lacks.
        wheel = _pip(tools_venv) + ["--no-cache-dir", "wheel", "--use-pep517", "--progress-bar", "off"]
        wheel += ["--wheel-dir", fresh]
        code, output = out.stream(wheel + ["--find-links", wheelhouse, *args], cwd=layout.app_dir, env=env)
        if code != 0:
            return code, output
        for name in os.listdir(fresh):
            os.replace(os.path.join(fresh, name), os.path.join(wheelhouse, name))
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
    # The index stays reachable for build isolation (an editable `-e .` needs its build backend);
    # pip takes a wheel found in --find-links before the same one on the index, so nothing the
    # wheelhouse has is downloaded again.
    return out.stream(install + ["--find-links", wheelhouse, *args], cwd=layout.app_dir, env=env)


def install_requirements(
    interpreter: Interpreter,
    files: list[str],
    layout: Layout,
    env: Mapping[str, str],
    out: Output,
    extras: list[str] | None = None,
) -> None:
    args = [arg for name in files for arg in ("-r", name)] + list(extras or [])
    code, output = _install(interpreter, args, layout, env, out)
    if code != 0:
        raise failure.explain(output, ", ".join(files), "pip", code)


def install_project(
    interpreter: Interpreter,
    files: tuple[str, ...],
    layout: Layout,
    env: Mapping[str, str],
    out: Output,
    extras: list[str] | None = None,
) -> None:
    code, output = _install(interpreter, [".", *(extras or [])], layout, env, out)
    if code != 0:
        raise failure.explain(output, ", ".join(files), "pip install .", code)


def install_packages(
    interpreter: Interpreter, requirements: list[str], layout: Layout, env: Mapping[str, str], out: Output
) -> None:
    """Install launchpack's own additions (the server, whitenoise)."""
    if not requirements:
        return
    code, _output = _install(interpreter, requirements, layout, env, out)
    if code != 0:
        raise errors.ToolInstallFailed(tool=", ".join(requirements), command="pip install", code=code)
