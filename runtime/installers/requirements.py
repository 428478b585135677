"""What a requirements file depends on, for the reuse key, and whether it is readable (pure: reads
files, runs nothing).

A requirements.txt can pull in other files (`-r base.txt`, `-c constraints.txt`) and local
projects (`-e .`, `./libs/pkg`); a change to any of them must rebuild the environment.
"""

from __future__ import annotations

import os
import re

from runtime import errors

INCLUDE = re.compile(r"^\s*(?:-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+)(\S+)")
EDITABLE = re.compile(r"^\s*(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)")
LOCAL_PATH = re.compile(r"^\s*(\.{1,2}(?:/\S*)?|/\S+)\s*(?:#.*)?$")
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
PROJECT_METADATA = ("pyproject.toml", "setup.py", "setup.cfg")
# Never hashed as part of a local project: generated, or not the project's content.
SKIP_DIRS = {".git", "__pycache__", ".launchpack-runtime", "node_modules", ".venv", "build", "dist"}


def _strip_comment(line: str) -> str:
    return re.sub(r"(^|\s)#.*$", "", line).strip()


def tree_files(root: str) -> list[str]:
    """Every file of a local project, for projects installed as copies (not editable)."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        found.extend(os.path.join(directory, name) for name in sorted(files))
    return found


def referenced_files(app_dir: str, names: list[str] | tuple[str, ...]) -> list[str]:
    """The given requirement files plus every file they reference, recursively (absolute paths).

    Referenced files outside the app dir are included too (their content still decides what is
    installed); URLs are not followed. A missing file is listed, so its absence is recorded.
    """
    seen: list[str] = []
    pending = [os.path.join(app_dir, name) for name in names]
    while pending:
        path = os.path.normpath(pending.pop(0))
        if path in seen:
            continue
        seen.append(path)
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        base = os.path.dirname(path)
        for raw in lines:
            line = _strip_comment(raw)
            if not line:
                continue
            include = INCLUDE.match(line)
            if include and not URL.match(include.group(1)):
                pending.append(os.path.join(base, include.group(1)))
                continue
            editable = EDITABLE.match(line)
            local = editable or LOCAL_PATH.match(line)
            if not local or URL.match(local.group(1)):
                continue
            # Local paths are relative to the current directory, which is the app dir.
            project = os.path.normpath(os.path.join(app_dir, local.group(1).split("#", 1)[0].split("[", 1)[0]))
            if not os.path.isdir(project):
                seen.append(project)
            elif editable:  # the code is used in place: only its metadata decides the install
                seen.extend(os.path.join(project, name) for name in PROJECT_METADATA)
            else:  # copied into the environment: any change to it needs a reinstall
                seen.extend(tree_files(project))
    return seen


def check_encoding(app_dir: str, names: list[str] | tuple[str, ...]) -> None:
    """Fail, naming the file and line, when a requirements file (or one it includes) is not
    UTF-8: pip would stop with a traceback and uv with a one-line error about decoding."""
    for path in referenced_files(app_dir, names):
        if not path.endswith((".txt", ".in")) or not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue  # the installer names an unreadable file itself
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            shown = os.path.relpath(path, app_dir) if path.startswith(app_dir + os.sep) else path
            raise errors.RequirementsNotUtf8(path=shown, where=f", line {line}") from None
