"""Procfile parsing and rendering.

The grammar is the one honcho and foreman accept (``^([A-Za-z0-9_-]+):\\s*(.+)$``), which is
also what Heroku's router reads. Where those tools silently skip a line we report it
instead: a Procfile line that does nothing is almost always a mistake the user wants to
hear about at build time rather than discover as a missing process after deploy.

Standard library only: the buildpack imports this before anything is installed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Procfile", "ProcfileError", "ProcessType", "parse", "render"]

# A process type name as honcho, foreman and Heroku accept it.
NAME = re.compile(r"^[A-Za-z0-9_-]+$")
# honcho's PROCFILE_LINE, loosened so that each way of getting it wrong gets its own message.
LINE = re.compile(r"^(\s*)([^:]*):(.*)$")


@dataclass(frozen=True)
class ProcessType:
    name: str
    command: str


@dataclass(frozen=True)
class LineProblem:
    lineno: int
    line: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.lineno}: {self.reason}: {self.line.strip()!r}"


class ProcfileError(ValueError):
    """A Procfile has lines that no Procfile runner would run as the user intended."""

    def __init__(self, problems: list[LineProblem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class Procfile:
    processes: tuple[ProcessType, ...]

    def get(self, name: str) -> ProcessType | None:
        for process in self.processes:
            if process.name == name:
                return process
        return None

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.processes]

    def as_dict(self) -> dict[str, str]:
        return {p.name: p.command for p in self.processes}


def parse(text: str) -> Procfile:
    """Parse Procfile text; raise ProcfileError listing every invalid line with its number."""
    processes: list[ProcessType] = []
    seen: dict[str, int] = {}
    problems: list[LineProblem] = []
    if text.startswith("\ufeff"):  # a BOM from a Windows editor would glue itself to the first name
        text = text[1:]
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = LINE.match(line)
        if not match:
            problems.append(LineProblem(lineno, line, "expected '<process type>: <command>'"))
            continue
        indent, name, rest = match.groups()
        command = rest.strip()
        if indent:
            # Heroku tolerates this, honcho silently skips the line: the two would disagree.
            problems.append(LineProblem(lineno, line, "remove the spaces before the process type name"))
        elif name != name.rstrip() or not name:
            problems.append(LineProblem(lineno, line, "expected '<process type>: <command>' with no space before ':'"))
        elif not NAME.match(name):
            problems.append(
                LineProblem(lineno, line, "process type names may only use letters, digits, '_' and '-'")
            )
        elif not command:
            problems.append(LineProblem(lineno, line, f"process type '{name}' has an empty command"))
        elif not rest[:1].isspace():
            # Heroku's parser needs whitespace after the colon; honcho does not.
            problems.append(LineProblem(lineno, line, f"put a space after '{name}:'"))
        elif name in seen:
            problems.append(
                LineProblem(lineno, line, f"process type '{name}' is already defined on line {seen[name]}")
            )
        else:
            seen[name] = lineno
            processes.append(ProcessType(name, command))
    if problems:
        raise ProcfileError(problems)
    return Procfile(tuple(processes))


def render(processes: list[ProcessType] | tuple[ProcessType, ...], header: str = "") -> str:
    """Render process types as Procfile text (``web`` first, the order runners show them in)."""
    ordered = sorted(processes, key=lambda p: (p.name != "web", p.name == "release"))
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    for process in ordered:
        if not NAME.match(process.name):
            raise ValueError(f"invalid process type name {process.name!r}")
        if "\n" in process.command or not process.command.strip():
            raise ValueError(f"process type {process.name!r} needs a one-line, non-empty command")
        lines.append(f"{process.name}: {process.command}")
    return "\n".join(lines) + "\n"
