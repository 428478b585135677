"""Reading the few facts launchpack needs from pyproject.toml (pure: reads, never acts).

The buildpack runs on the stack's python3, which may be 3.10 without ``tomllib``; there we fall
back to a line-based reader that understands just the keys we use (``[project]``'s
``requires-python`` and whether it declares ``dependencies``, and which tool tables exist).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtime import appfiles, errors

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - exercised on 3.10 stacks
    tomllib = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Pyproject:
    has_project: bool = False  # a [project] table
    declares_dependencies: bool = False  # [project] has a `dependencies` key
    requires_python: str | None = None
    poetry_dependencies: bool = False  # [tool.poetry.dependencies] (Poetry before [project] support)
    name: str | None = None  # [project] name: which of the app's packages is the app (entry_points)


TABLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
STRING_KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
ANY_KEY = re.compile(r"^\s*([A-Za-z0-9_\"'-]+)\s*=")


def _fallback_parse(text: str) -> Pyproject:
    table = ""
    found: dict[str, object] = {"has_project": False, "deps": False, "requires": None, "poetry": False, "name": None}
    for line in text.splitlines():
        header = TABLE.match(line)
        if header:
            table = header.group(1).strip()
            found["has_project"] = found["has_project"] or table == "project"
            found["poetry"] = found["poetry"] or table == "tool.poetry.dependencies"
            continue
        if table != "project":
            continue
        string = STRING_KEY.match(line)
        if string and string.group(1) in ("requires-python", "name"):
            value = string.group(2) if string.group(2) is not None else string.group(3)
            found["requires" if string.group(1) == "requires-python" else "name"] = value
        key = ANY_KEY.match(line)
        if key and key.group(1) == "dependencies":
            found["deps"] = True
    return Pyproject(
        bool(found["has_project"]), bool(found["deps"]), found["requires"], bool(found["poetry"]), found["name"]  # type: ignore[arg-type]
    )


def parse(text: str) -> Pyproject:
    if tomllib is None:
        return _fallback_parse(text)
    data = tomllib.loads(text)
    project = data.get("project")
    poetry = (data.get("tool") or {}).get("poetry") or {}
    if not isinstance(project, dict):
        return Pyproject(poetry_dependencies="dependencies" in poetry)
    requires = project.get("requires-python")
    return Pyproject(
        has_project=True,
        declares_dependencies="dependencies" in project,
        requires_python=requires if isinstance(requires, str) else None,
        poetry_dependencies="dependencies" in poetry,
        name=project.get("name") if isinstance(project.get("name"), str) else None,
    )


def read(app_dir: str) -> Pyproject | None:
    text = appfiles.read_text(app_dir, "pyproject.toml")
    if text is None:
        return None
    try:
        return parse(text)
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        raise errors.ConfigFileUnreadable(path="pyproject.toml", reason=f"it is not valid TOML: {exc}") from None
