"""Which Python the app asks for, and which interpreter on the stack satisfies it.

Deciding (parsing the request files, matching versions) is pure; finding the stack's
interpreters runs them once each to read their exact version.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from runtime import appfiles, errors

VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
RUNTIME_TXT = re.compile(r"^python-(\d+\.\d+(?:\.\d+)?)$")
# Where a stack keeps its interpreters. Never a user's home (pyenv & co. are not on the
# platform, and the runtime user could not read them anyway).
STACK_DIRS = ("/usr/bin", "/usr/local/bin")

# Every Python feature version launchpack knows, with the day the CPython core team ends its
# support (https://devguide.python.org/versions/). A request for a version past that day is an
# error: it gets no security fixes, and uv stops shipping builds of it.
END_OF_LIFE = {
    (2, 7): datetime.date(2020, 1, 1),
    (3, 6): datetime.date(2021, 12, 23),
    (3, 7): datetime.date(2023, 6, 27),
    (3, 8): datetime.date(2024, 10, 7),
    (3, 9): datetime.date(2025, 10, 31),
    (3, 10): datetime.date(2026, 10, 31),
    (3, 11): datetime.date(2027, 10, 31),
    (3, 12): datetime.date(2028, 10, 31),
    (3, 13): datetime.date(2029, 10, 31),
    (3, 14): datetime.date(2030, 10, 31),
    (3, 15): datetime.date(2031, 10, 31),
}


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
    # For a uv-managed interpreter (python-build-standalone): the directory of the whole
    # installation, which is copied into the app's environment so the slug/layer carries it.
    managed_root: str | None = None

    @property
    def managed(self) -> bool:
        return self.managed_root is not None

    @property
    def description(self) -> str:
        """What the reuse key records: the full version, and where it comes from."""
        return self.version_text + (" (uv-managed)" if self.managed else "")

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


def read_request(app_dir: str, requires_python: str | None = None) -> tuple[PythonRequest | None, list[PythonRequest]]:
    """The winning request and every request found (so callers can warn about disagreements).

    Order: .python-version, runtime.txt, then pyproject.toml's requires-python when it admits
    exactly one feature version (``==3.12.*``, ``~=3.12.0``, ``>=3.12,<3.13``).
    """
    found: list[PythonRequest] = []
    for name, parse in ((".python-version", parse_python_version_file), ("runtime.txt", parse_runtime_txt)):
        text = appfiles.read_text(app_dir, name)
        if text is not None:
            request = parse(text, name)
            if request:
                found.append(request)
    if requires_python:
        pinned = pinned_by_requires_python(requires_python)
        if pinned:
            found.append(PythonRequest(pinned, "pyproject.toml (requires-python)"))
    return (found[0] if found else None), found


# --- requires-python (PEP 440 specifiers, the subset that matters for picking a Python) ------

SPECIFIER = re.compile(r"^\s*(~=|==|!=|<=|>=|<|>)\s*(\d+(?:\.\d+)*)(\.\*)?\s*$")


def _padded(parts: tuple[int, ...], size: int = 3) -> tuple[int, ...]:
    return tuple(parts) + (0,) * (size - len(parts))


def _satisfies(version: tuple[int, int, int], operator: str, target: tuple[int, ...], wildcard: bool) -> bool:
    if wildcard:  # ==3.12.* / !=3.12.*
        same = version[: len(target)] == target
        return same if operator == "==" else not same
    padded = _padded(target)
    if operator == "~=":  # ~=3.12.1 means >=3.12.1, ==3.12.*; ~=3.12 means >=3.12, ==3.*
        return version >= padded and version[: len(target) - 1] == target[:-1]
    return {
        "==": version == padded,
        "!=": version != padded,
        ">=": version >= padded,
        "<=": version <= padded,
        ">": version > padded,
        "<": version < padded,
    }[operator]


def satisfies_requires_python(spec: str, version: tuple[int, int, int]) -> bool | None:
    """Whether a version meets a requires-python specifier set; None if we cannot parse it."""
    clauses = [c for c in spec.split(",") if c.strip()]
    parsed = [SPECIFIER.match(c) for c in clauses]
    if not clauses or not all(parsed):
        return None
    return all(
        _satisfies(version, m.group(1), tuple(int(p) for p in m.group(2).split(".")), bool(m.group(3)))
        for m in parsed  # type: ignore[union-attr]
    )


def pinned_by_requires_python(spec: str) -> str | None:
    """'3.12' when the specifier admits exactly one known feature version, else None."""
    minors = [
        minor
        for minor in END_OF_LIFE
        if minor[0] == 3 and any(satisfies_requires_python(spec, (*minor, patch)) for patch in range(0, 40))
    ]
    return f"{minors[0][0]}.{minors[0][1]}" if len(minors) == 1 else None


# --- support policy -------------------------------------------------------------------------


def check_supported(request: PythonRequest, today: datetime.date | None = None) -> None:
    """Refuse versions launchpack does not know or that have reached their end of life."""
    minor = tuple(request.parts[:2])
    supported = sorted(m for m, eol in END_OF_LIFE.items() if eol > (today or datetime.date.today()))
    supported_text = ", ".join(f"{a}.{b}" for a, b in supported)
    if len(request.parts) < 2 or minor not in END_OF_LIFE:
        raise errors.UnknownPythonVersion(
            requested=request.version,
            source=request.source,
            available=f"the supported versions {supported_text} (any patch release)",
            default_hint=", e.g. " + (f"{supported[-2][0]}.{supported[-2][1]}" if len(supported) > 1 else "3.12"),
        )
    eol = END_OF_LIFE[minor]  # type: ignore[index]
    if eol <= (today or datetime.date.today()):
        raise errors.PythonVersionEndOfLife(
            requested=request.version, source=request.source, eol=eol.isoformat(), supported=supported_text
        )


def offered(versions: Iterable[tuple[int, ...]], today: datetime.date | None = None) -> list[str]:
    """The versions to offer when a request cannot be met: in version order (3.9 before 3.10),
    each once, without those past their end of life (or unknown), which check_supported refuses."""
    today = today or datetime.date.today()
    supported = {tuple(v) for v in versions if END_OF_LIFE.get(tuple(v[:2]), today) > today}  # type: ignore[arg-type]
    return [".".join(map(str, v)) for v in sorted(supported)]


def matches(request: PythonRequest, version: tuple[int, int, int]) -> bool:
    return version[: len(request.parts)] == request.parts


def on_stack(request: PythonRequest | None, available: list[Interpreter], default: Interpreter) -> Interpreter | None:
    """The stack interpreter for a request (exact X.Y.Z, or the newest X.Y.*), or None."""
    if request is None:
        return default
    candidates = [i for i in available if matches(request, i.version)]
    return max(candidates, key=lambda i: i.version) if candidates else None


def choose(request: PythonRequest | None, available: list[Interpreter], default: Interpreter) -> Interpreter:
    """Pick the interpreter for a request: an exact X.Y.Z, or the newest X.Y.* on the stack."""
    if request is None:
        return default
    candidates = [i for i in available if matches(request, i.version)]
    if not candidates:
        raise errors.UnknownPythonVersion(
            requested=request.version,
            source=request.source,
            available=", ".join(offered(i.version for i in available)) or "none",
            default_hint=f", e.g. {default.minor_text}, or delete it to use the default ({default.minor_text})",
        )
    return max(candidates, key=lambda i: i.version)


def probe_version(path: str) -> tuple[int, int, int] | None:
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
            version = probe_version(path)
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
