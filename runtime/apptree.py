"""What the build will not walk into: links that leave the app, and files that are not files.

The build copies and serves the app's files (collectstatic copies what a link points at; the
static handlers serve it), so a link `static/env.txt -> /proc/self/environ` would publish the
build's environment, and one to `/etc/...` a file of the stack. And a FIFO, a socket or a device
is not content: opening a FIFO blocks until someone writes to it, so one left by a hook would
hang the build forever wherever it reads the tree.

So after each step that can change the app (the hooks), the app is scanned once:
- a link that resolves outside the app, or into /proc, /dev or /sys, fails the build, naming
  it (a dangling link outside the app publishes nothing and is only named in a warning);
- a special file is named in a warning and skipped by everything that reads the tree
  (``is_plain_file``), except in a directory the app serves as static files, where a server
  would block on it: that fails the build.
launchpack's own directory and any other virtualenv (a developer's .venv: their links lead to
an interpreter) and VCS metadata are not scanned.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from runtime import errors
from runtime.output import Output

SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__"}
SYSTEM_TREES = ("/proc", "/dev", "/sys")
STATIC_DIR_NAMES = {"static", "staticfiles", "public", "assets"}
SHOWN = 10  # a message names this many, then counts the rest


def is_plain_file(path: str) -> bool:
    """A regular file (a link to one counts): safe to open and read to the end."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


@dataclass
class Findings:
    escaping: list[tuple[str, str]] = field(default_factory=list)  # (link, where it resolves)
    dangling_outside: list[tuple[str, str]] = field(default_factory=list)
    special: list[tuple[str, str]] = field(default_factory=list)  # (path, kind)


def scan(app_dir: str, skip: tuple[str, ...] = ()) -> Findings:
    """skip: top-level names not to scan (launchpack's own directory)."""
    root = os.path.realpath(app_dir)
    found = Findings()
    for directory, dirs, files in os.walk(app_dir):
        top = directory == app_dir
        kept = []
        for name in sorted(dirs):
            if name in SKIP_DIRS or (top and name in skip):
                continue
            if os.path.isfile(os.path.join(directory, name, "pyvenv.cfg")):
                continue  # a virtualenv (a developer's .venv): its links lead to its interpreter
            if os.path.islink(os.path.join(directory, name)):
                files.append(name)  # a link to a directory: judged as a link, not walked
            else:
                kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, app_dir)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if stat.S_ISLNK(info.st_mode):
                target = os.path.realpath(path)
                system = any(_inside(target, tree) for tree in SYSTEM_TREES)
                if system or not _inside(target, root):
                    if system or os.path.exists(target):
                        found.escaping.append((relative, target))
                    else:
                        found.dangling_outside.append((relative, target))
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                found.special.append((relative, _kind(info.st_mode)))
    return found


def _listing(items: list[tuple[str, str]], describe) -> str:
    lines = [describe(a, b) for a, b in items[:SHOWN]]
    if len(items) > SHOWN:
        lines.append(f"... and {len(items) - SHOWN} more")
    return "\n".join("  " + line for line in lines)


def _served_as_static(relative: str) -> bool:
    return any(part in STATIC_DIR_NAMES for part in relative.split(os.sep)[:-1])


class Guard:
    """Scans the app after each step that may change it; warns about each finding once."""

    def __init__(self, app_dir: str, skip: tuple[str, ...], out: Output):
        self.app_dir, self.skip, self.out = app_dir, skip, out
        self._warned: set[str] = set()

    def check(self, after: str) -> None:
        found = scan(self.app_dir, self.skip)
        if found.escaping:
            raise errors.LinkOutsideApp(
                count=len(found.escaping),
                after=after,
                links=_listing(found.escaping, lambda link, target: f"{link} -> {target}"),
            )
        blocking = [(path, kind) for path, kind in found.special if _served_as_static(path)]
        if blocking:
            raise errors.SpecialFileInStatic(
                after=after, files=_listing(blocking, lambda path, kind: f"{path} ({kind})")
            )
        new_dangling = [item for item in found.dangling_outside if item[0] not in self._warned]
        if new_dangling:
            self.out.warn(
                "These links point outside the app, to nothing; they are kept but lead nowhere at run time:\n"
                + _listing(new_dangling, lambda link, target: f"{link} -> {target}")
            )
        new_special = [item for item in found.special if item[0] not in self._warned]
        if new_special:
            self.out.warn(
                "Skipping special files (they are not content; reading a FIFO would block the build):\n"
                + _listing(new_special, lambda path, kind: f"{path} ({kind})")
            )
        self._warned.update(item[0] for item in new_dangling + new_special)
