"""Which project a `launchpack` command works on, and where that project's environment lives.

A shell that ran `eval "$(launchpack activate)"` names its project (LAUNCHPACK_PROJECT and
LAUNCHPACK_PROJECT_DIR), wherever the user then cds to, as warpdrive's projects do. Without
one, the current directory is the project, with the environment already recorded for it or
else the one named after the directory.

    $LAUNCHPACK_HOME (default ~/.launchpack)
      envs/NAME/project.json   which directory the environment belongs to
      envs/NAME/venv/          the app's Python environment
      envs/NAME/runtime/       env.sh, python/, static/, launch.json, Procfile (what the build made)
      cache/                   pip's tools env and the wheelhouse, shared by every project
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from runtime import errors, layout

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
RECORD = "project.json"
# What an activated shell exports (see local_shell.py).
ACTIVE_NAME, ACTIVE_DIR, ACTIVE_ENV = "LAUNCHPACK_PROJECT", "LAUNCHPACK_PROJECT_DIR", "LAUNCHPACK_PROJECT_ENV"


@dataclass(frozen=True)
class Project:
    name: str
    app_dir: str  # the source tree (never written to by launchpack)
    env_dir: str
    home: str
    active: bool = False  # named by the activated shell rather than found from the current directory
    moved_from: str | None = None  # the environment was recorded for a directory that no longer exists

    @property
    def cache_dir(self) -> str:
        return os.path.join(self.home, "cache")

    @property
    def layout(self) -> layout.Layout:
        return layout.local(self.app_dir, self.env_dir, self.cache_dir)

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.env_dir)


def home_dir(environ: Mapping[str, str]) -> str:
    configured = environ.get("LAUNCHPACK_HOME")
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    return os.path.join(os.path.expanduser("~"), ".launchpack")


def envs_dir(home: str) -> str:
    return os.path.join(home, "envs")


def default_name(app_dir: str) -> str:
    """The directory's name, made safe to use as a directory name and in a prompt."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", os.path.basename(app_dir.rstrip("/"))).strip(".-_")
    return name[:100] or "project"


def check_name(name: str) -> str:
    if not NAME.match(name):
        raise errors.UsageError(
            message=f"'{name}' cannot name a launchpack environment",
            usage="Use letters, digits, '.', '_' and '-' (starting with a letter or digit), e.g. mysite.",
        )
    return name


def read_record(env_dir: str) -> dict | None:
    try:
        with open(os.path.join(env_dir, RECORD), encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("project_dir"), str) else None


def write_record(project: Project) -> None:
    """Create the env dir (the first thing any command writes under LAUNCHPACK_HOME) and record
    which project it belongs to."""
    path = os.path.join(project.env_dir, RECORD)
    try:
        os.makedirs(project.env_dir, exist_ok=True)
        with open(path + ".new", "w", encoding="utf-8") as handle:
            json.dump({"name": project.name, "project_dir": project.app_dir}, handle, indent=2)
            handle.write("\n")
        os.replace(path + ".new", path)
    except OSError as exc:
        where, why = exc.filename or project.env_dir, exc.strerror or str(exc)
        raise errors.LaunchpackHomeUnusable(path=where, reason=why) from None


def list_envs(home: str) -> list[str]:
    root = envs_dir(home)
    try:
        return sorted(n for n in os.listdir(root) if os.path.isdir(os.path.join(root, n)))
    except OSError:
        return []


def env_recorded_for(home: str, app_dir: str) -> str | None:
    """The environment already recorded for this directory, whatever its name."""
    for name in list_envs(home):
        record = read_record(os.path.join(envs_dir(home), name))
        if record and os.path.realpath(record["project_dir"]) == app_dir:
            return name
    return None


def for_directory(home: str, app_dir: str, name: str | None = None) -> Project:
    """The project in app_dir, with the environment `name` (default: its own or its dir's name)."""
    app_dir = os.path.realpath(app_dir)
    if name is None:
        name = env_recorded_for(home, app_dir) or default_name(app_dir)
    env_dir = os.path.join(envs_dir(home), check_name(name))
    record = read_record(env_dir)
    moved_from = None
    if record and os.path.realpath(record["project_dir"]) != app_dir:
        if os.path.isdir(record["project_dir"]):
            raise errors.EnvBelongsToAnotherProject(name=name, other_dir=record["project_dir"], app_dir=app_dir)
        moved_from = record["project_dir"]  # the checkout moved (or was deleted): take the env over
    return Project(name, app_dir, env_dir, home, moved_from=moved_from)


def resolve(environ: Mapping[str, str], cwd: str) -> Project:
    """The project a command works on: the activated one, else the current directory."""
    home = home_dir(environ)
    name = environ.get(ACTIVE_NAME)
    if name:
        app_dir = environ.get(ACTIVE_DIR) or ""
        if not os.path.isdir(app_dir):
            raise errors.ProjectDirMissing(app_dir=app_dir or "(LAUNCHPACK_PROJECT_DIR is not set)")
        env_dir = environ.get(ACTIVE_ENV) or os.path.join(envs_dir(home), check_name(name))
        return Project(name, os.path.realpath(app_dir), env_dir, home, active=True)
    return for_directory(home, cwd)


def named(home: str, name: str) -> Project | None:
    """An existing environment by name, with the directory it was recorded for."""
    env_dir = os.path.join(envs_dir(home), check_name(name))
    record = read_record(env_dir)
    if record is None:
        return None
    return Project(name, record["project_dir"], env_dir, home)


def describe(project: Project) -> str:
    """One line saying which project and environment a command uses (and why)."""
    if project.active:
        return f"Project {project.name} ({project.app_dir}), environment {project.env_dir}"
    name = "" if project.name == default_name(project.app_dir) else " " + project.name
    return (
        f"No launchpack project is active: using {project.app_dir} with the environment {project.env_dir}\n"
        f'(activate it with: eval "$(launchpack activate{name})")'
    )
