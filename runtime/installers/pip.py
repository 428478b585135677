"""Installing packages with pip, run from a tools environment kept in the cache.

pip runs from its own venv (``pip --python <app venv>``), so the app's environment (and the
slug) never contains the build's pip.

Downloads and builds go through a wheelhouse in the cache dir: ``pip wheel`` resolves against
the index but reuses any wheel already in the wheelhouse ("File was already downloaded"), and
the install then reads only the wheelhouse. We do not rely on pip's HTTP cache, which stores
nothing when an index or mirror sends no caching headers; a wheelhouse also means a package
without a wheel (mod_wsgi, uWSGI) is compiled once, not on every build.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime import errors, pythonenv
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter

FLAGS = ["--disable-pip-version-check", "--no-input"]


def tools_env(interpreter: Interpreter, layout: Layout, out: Output) -> str:
    """A venv holding pip, one per Python version, reused across builds."""
    path = layout.cache("tools", f"pip-{interpreter.version_text}")
    if path is None:
        path = os.path.join(layout.runtime_dir, ".tools")
    if pythonenv.venv_version(path) == interpreter.version_text and os.path.isfile(os.path.join(path, "bin", "pip")):
        return path
    pythonenv.create(interpreter, path, out, with_pip=True)
    return path


def _pip(tools: str) -> list[str]:
    return [pythonenv.python_of(tools), "-m", "pip", *FLAGS]


def _install(
    tools: str, venv_dir: str, args: list[str], layout: Layout, env: Mapping[str, str], out: Output
) -> int:
    """pip install ARGS into the app env, via the wheelhouse when there is a cache dir."""
    wheelhouse = layout.cache("wheels")
    install = _pip(tools) + ["--python", pythonenv.python_of(venv_dir), "install", "--progress-bar", "off"]
    if not wheelhouse:
        code, _ = out.stream(install + ["--no-cache-dir", *args], cwd=layout.app_dir, env=env)
        return code
    os.makedirs(wheelhouse, exist_ok=True)
    # pip wheel runs on the tools env's interpreter: the same Python version as the app's env.
    # --use-pep517: the tools env has no `wheel` package, so a legacy setup.py sdist (mod_wsgi,
    # uWSGI) is built in an isolated environment that has one, rather than failing.
    wheel = _pip(tools) + ["--no-cache-dir", "wheel", "--use-pep517", "--progress-bar", "off"]
    wheel += ["--wheel-dir", wheelhouse]
    code, _ = out.stream(wheel + ["--find-links", wheelhouse, *args], cwd=layout.app_dir, env=env)
    if code != 0:
        return code
    code, _ = out.stream(install + ["--no-index", "--find-links", wheelhouse, *args], cwd=layout.app_dir, env=env)
    return code


def install_requirements(
    tools: str, venv_dir: str, files: tuple[str, ...], layout: Layout, env: Mapping[str, str], out: Output
) -> None:
    args = [arg for name in files for arg in ("-r", name)]
    code = _install(tools, venv_dir, args, layout, env, out)
    if code != 0:
        raise errors.DependencyInstallFailed(source=", ".join(files), installer="pip", code=code)


def install_packages(
    tools: str, venv_dir: str, requirements: list[str], layout: Layout, env: Mapping[str, str], out: Output
) -> None:
    """Install launchpack's own additions (the server, whitenoise)."""
    if not requirements:
        return
    code = _install(tools, venv_dir, requirements, layout, env, out)
    if code != 0:
        raise errors.ToolInstallFailed(tool=", ".join(requirements), command="pip install", code=code)
