"""Which Python the app asks for, and which interpreter on the stack satisfies it.

Deciding (parsing the request files, matching versions) is pure; finding the stack's
interpreters runs them once each to read their exact version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from runtime import errors

VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
RUNTIME_TXT = re.compile(r"^python-(\d+\.\d+(?:\.\d+)?)$")
# Where a stack keeps its interpreters. Never a user's home (pyenv & co. are not on the
# platform, and the runtime user could not read them anyway).
STACK_DIRS = ("/usr/bin", "/usr/local/bin")


@dataclass(frozen=True)
class PythonRequest:
    version: str  # "3.11" or "3.11.2"
    source: str  # the file it came from, e.g. ".python-version"

    @property
    def parts(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.version.split("."))


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def minor_text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def _show_invisible(text: str) -> str:
    """repr() shows BOMs, tabs, CRs and non-breaking spaces that editors hide."""
    return repr(text)


def _hint_for(value: str) -> str:
    if value.lower().startswith("python-") or value.lower().startswith("python "):
        return "\nWrite only the version, without 'python-'."
    if value.startswith("v"):
        return "\nWrite the version without a leading 'v'."
    return ""


def parse_python_version_file(text: str, source: str = ".python-version") -> PythonRequest | None:
    """Parse a pyenv-style .python-version: one version, comments (#) and blank lines ignored."""
    if text.startswith("\ufeff"):
        text = text[1:]
    versions: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not VERSION.match(line):
            raise errors.MalformedPythonVersion(source=source, shown=_show_invisible(raw), hint=_hint_for(line))
        versions.append(line)
    if len(set(versions)) > 1:
        raise errors.ConflictingPythonVersionLines(source=source, versions=", ".join(versions))
    return PythonRequest(versions[0], source) if versions else None


def parse_runtime_txt(text: str, source: str = "runtime.txt") -> PythonRequest | None:
    """Parse Heroku's runtime.txt: 'python-3.12.4' (a major.minor is accepted too)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not lines:
        return None
    match = RUNTIME_TXT.match(lines[0])
    if len(lines) > 1 or not match:
        shown = _show_invisible(text if len(text) < 80 else text[:80] + "...")
        hint = "\nruntime.txt takes the form 'python-3.11.2'."
        raise errors.MalformedPythonVersion(source=source, shown=shown, hint=hint)
    return PythonRequest(match.group(1), source)


def read_request(app_dir: str) -> tuple[PythonRequest | None, list[PythonRequest]]:
    """The winning request and every request found (so callers can warn about disagreements)."""
    found: list[PythonRequest] = []
    for name, parse in ((".python-version", parse_python_version_file), ("runtime.txt", parse_runtime_txt)):
        path = os.path.join(app_dir, name)
        if os.path.isfile(path):
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            except (OSError, UnicodeDecodeError) as exc:
                raise errors.ConfigFileUnreadable(path=name, reason=str(exc)) from None
            request = parse(text, name)
            if request:
                found.append(request)
    return (found[0] if found else None), found


def matches(request: PythonRequest, version: tuple[int, int, int]) -> bool:
    return version[: len(request.parts)] == request.parts


def choose(request: PythonRequest | None, available: list[Interpreter], default: Interpreter) -> Interpreter:
    """Pick the interpreter for a request: an exact X.Y.Z, or the newest X.Y.* on the stack."""
    if request is None:
        return default
    candidates = [i for i in available if matches(request, i.version)]
    if not candidates:
        versions = sorted({i.version_text for i in available})
        raise errors.UnknownPythonVersion(
            requested=request.version,
            source=request.source,
            available=", ".join(versions) or "none",
            default_hint=f", e.g. {default.minor_text}, or delete it to use the default ({default.minor_text})",
        )
    return max(candidates, key=lambda i: i.version)


def _probe(path: str) -> tuple[int, int, int] | None:
    try:
        out = subprocess.run(
            [path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=20,
            env={"PATH": "/usr/bin:/bin"},
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    match = VERSION.match(out)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)) if match else None


def stack_interpreters(dirs: tuple[str, ...] = STACK_DIRS) -> list[Interpreter]:
    """Every python3.N on the stack, by real path (python3 -> python3.11 counts once)."""
    seen: dict[str, Interpreter] = {}
    for directory in dirs:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            if not re.match(r"^python3\.\d+$", name):
                continue
            path = os.path.join(directory, name)
            real = os.path.realpath(path)
            if real in seen or not os.access(path, os.X_OK):
                continue
            version = _probe(path)
            if version:
                seen[real] = Interpreter(path, version)
    return sorted(seen.values(), key=lambda i: i.version)


def default_interpreter(available: list[Interpreter]) -> Interpreter:
    """The stack's own python3: the one running launchpack, if it is a stack interpreter."""
    running = os.path.realpath(sys.executable)
    for interpreter in available:
        if os.path.realpath(interpreter.path) == running:
            return interpreter
    if not available:
        raise errors.NoStackPython(searched=", ".join(STACK_DIRS))
    return available[-1]
