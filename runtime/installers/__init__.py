"""Which installer builds the app's environment, and running it.

    requirements.txt          uv pip install -r  (LAUNCHPACK_INSTALLER=pip: pip, the fallback)
    requirements.in only      pip-compile, then as requirements.txt
    uv.lock                   uv sync --locked --no-default-groups
    poetry.lock               poetry sync --only main
    Pipfile.lock              pipenv install --deploy
    pyproject.toml/setup.py   uv pip install .  (or pip install .)
    nothing                   only the web server

``plan()`` decides (pure); ``install()`` acts. Whatever the source, what the web server needs is
then added when the app does not already have it, by uv (or pip).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from runtime import crashpoints, errors, pythonenv
from runtime.appinfo import AppInfo, DependencySource
from runtime.config import ConfigVars
from runtime.installers import pip, pipenv, piptools, poetry, requirements, tools, uv
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter

CHOICES = ("uv", "pip")
DEFAULT = "uv"
COMPILED_REQUIREMENTS = "requirements.compiled.txt"  # in the runtime dir, from requirements.in


@dataclass(frozen=True)
class Plan:
    source: DependencySource
    installer: str  # runs the dependency source: uv | pip | poetry | pipenv
    extras_installer: str  # adds what the web server needs: uv | pip

    @property
    def label(self) -> str:
        """The installers and their versions, as the reuse key records them."""
        names = (["pip-tools"] if self.source.kind == "requirements-in" else []) + [self.installer]
        if self.extras_installer not in names:
            names.append(self.extras_installer)
        return " + ".join(tools.label(name) for name in names)


def plan(info: AppInfo, config: ConfigVars) -> Plan:
    choice = (config.get("LAUNCHPACK_INSTALLER") or DEFAULT).strip().lower()
    if choice not in CHOICES:
        raise errors.UnknownInstaller(value=choice)
    kind = info.dependencies.kind
    installer = {"uv": "uv", "poetry": "poetry", "pipenv": "pipenv"}.get(kind, choice)
    return Plan(info.dependencies, installer, choice)


def dependency_files(info: AppInfo) -> list[str]:
    """Every file whose content decides what the installer puts in the environment."""
    source = info.dependencies
    if source.kind in ("requirements", "requirements-in"):
        return requirements.referenced_files(info.app_dir, source.files)
    if source.kind == "project":  # `pip install .` copies the app's own code into the environment
        return [
            path
            for path in requirements.tree_files(info.app_dir)
            if os.path.relpath(path, info.app_dir).split(os.sep)[0] not in ("Procfile", ".profile.d")
        ]
    return [os.path.join(info.app_dir, name) for name in source.files]


# A requirement at the start of a line (requirements files, TOML string lists): "name", 'name', name.
REQUIREMENT_LINE = re.compile(r"""^\s*["']?([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?=[<>=!~;\[\s"',]|$)""", re.M)


def named_distributions(paths: list[str]) -> set[str]:
    """The distribution names that start a line of the dependency files (normalised): a cheap,
    conservative reading used only to avoid adding what the app already asks for."""
    names = set()
    for path in paths:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            continue
        found = (match.group(1) for match in REQUIREMENT_LINE.finditer(text))
        names.update(name.lower().replace("_", "-").replace(".", "-") for name in found)
    return names


def compile_requirements_in(
    interpreter: Interpreter, layout: Layout, env: Mapping[str, str], out: Output, output_file: str | None = None
) -> str:
    """requirements.in -> pinned requirements (default: in the runtime dir); shows the pins.

    This is also what `launchpack lock` runs, with output_file=<app>/requirements.txt.
    """
    target = output_file or os.path.join(layout.runtime_dir, COMPILED_REQUIREMENTS)
    pins = piptools.compile_requirements(interpreter, "requirements.in", target, layout, env, out)
    out.info(f"Resolved requirements.in to {len(pins)} pinned requirement(s):")
    for line in pins:
        out.info("  " + line)
    return target


def install(
    plan: Plan,
    info: AppInfo,
    interpreter: Interpreter,
    layout: Layout,
    env: Mapping[str, str],
    out: Output,
    extras: list[str] | None = None,
) -> None:
    """Run the dependency source's installer. `extras` (the web server's requirements) join the
    same resolution where the installer allows it (requirements files, projects), so a version
    the app pins wins and one resolver run does both; add_missing() covers the other sources."""
    extras = list(extras or [])
    source = plan.source
    crashpoints.reached("install-started")
    if source.kind == "uv":
        uv.sync_lock(layout, env, out)
    elif source.kind == "poetry":
        poetry.sync(interpreter, layout, env, out)
    elif source.kind == "pipenv":
        pipenv.install(interpreter, layout, env, out)
    elif source.kind in ("requirements", "requirements-in"):
        files = list(source.files)
        requirements.check_encoding(layout.app_dir, files)
        if source.kind == "requirements-in":
            files = [os.path.relpath(compile_requirements_in(interpreter, layout, env, out), layout.app_dir)]
        if plan.installer == "uv":
            uv.install_requirements(files, layout, env, out, extras)
        else:
            pip.install_requirements(interpreter, files, layout, env, out, extras)
    elif source.kind == "project":
        if plan.installer == "uv":
            uv.install_project(source.files, layout, env, out, extras)
        else:
            pip.install_project(interpreter, source.files, layout, env, out, extras)


def add_missing(
    plan: Plan, needed: Mapping[str, str], interpreter: Interpreter, layout: Layout, env: Mapping[str, str], out: Output
) -> list[str]:
    """Install what the web server needs (distribution -> requirement) unless the app has it."""
    missing = [req for dist, req in needed.items() if not pythonenv.installed(layout.venv_dir, dist)]
    if missing:
        out.info("Adding what the web server needs: " + ", ".join(missing))
        if plan.extras_installer == "uv":
            uv.install_packages(missing, layout, env, out)
        else:
            pip.install_packages(interpreter, missing, layout, env, out)
    return missing
