"""Reusing the app's Python environment between builds.

The environment is reused as is (no installer runs) when every input that decides its contents
is unchanged; otherwise the build says which inputs changed and builds it again. The key is
pure data, computed the same way for every platform; where the environment is kept between
builds is the platform's business (an EnvStore): Heroku's CACHE_DIR, a CNB layer, the local
env dir.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterable
from typing import Protocol

from runtime import pythonenv

# Bump when a change to launchpack changes what an environment contains.
ENV_FORMAT = "1"


def file_digest(paths: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(os.path.basename(path).encode() + b"\0")
        try:
            with open(path, "rb") as handle:
                digest.update(handle.read())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def stack_id() -> str:
    """The stack: $STACK on Heroku, else the distro from /etc/os-release."""
    if os.environ.get("STACK"):
        return os.environ["STACK"]
    fields = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.strip().partition("=")
                fields[key] = value.strip('"')
    except OSError:
        pass
    return f"{fields.get('ID', 'unknown')}-{fields.get('VERSION_ID', '')}"


def reuse_key(
    python_version: str, installer: str, dependency_files: Iterable[str], extra_requirements: Iterable[str]
) -> dict[str, str]:
    """Every input that decides what the app's environment contains."""
    return {
        "format": ENV_FORMAT,
        "python": python_version,
        "stack": stack_id(),
        "arch": platform.machine(),
        "installer": installer,
        "dependencies": file_digest(dependency_files),
        "extra_requirements": " ".join(sorted(extra_requirements)),
    }


LABELS = {
    "format": "launchpack's environment format",
    "python": "the Python version",
    "stack": "the stack",
    "arch": "the CPU architecture",
    "installer": "the installer",
    "dependencies": "the dependency files",
    "extra_requirements": "the packages launchpack adds (the web server)",
}


def reasons_to_rebuild(previous: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """Why a previous environment cannot be reused; empty when it can."""
    if not previous:
        return ["there is no previous environment"]
    reasons = []
    for key, value in current.items():
        old = previous.get(key)
        if old != value:
            label = LABELS.get(key, key)
            if key == "dependencies":
                reasons.append(f"{label} changed")
            else:
                reasons.append(f"{label} changed ({old or 'none'} -> {value})")
    return reasons


class EnvStore(Protocol):
    """Where a platform keeps the app's environment between builds."""

    def load(self, venv_dir: str) -> dict[str, str] | None:
        """Put the previous build's environment at venv_dir if there is one; return its key."""

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        """Keep the environment at venv_dir for the next build (atomically: a build killed
        while saving must leave either the old environment or none, never a broken one)."""


class Remembering:
    """Wraps a store to remember the key it loaded (the pipeline compares it after pre_compile)."""

    def __init__(self, store: EnvStore):
        self.store = store
        self.previous_key: dict[str, str] | None = None

    def load(self, venv_dir: str) -> dict[str, str] | None:
        self.previous_key = self.store.load(venv_dir)
        return self.previous_key

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        self.store.save(venv_dir, key)


class NoStore:
    def load(self, venv_dir: str) -> dict[str, str] | None:
        return None

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        pass


class InPlaceStore:
    """Keeps the environment where it was built (the local CLI's env dir): nothing is copied.

    The key is written inside the venv dir itself, so whatever replaces the environment
    (pythonenv.create starts from an empty dir) forgets the key with it: an install that fails
    or is killed half-way leaves no key, and the next build starts over instead of trusting a
    half-installed environment. Saving is atomic (write, then rename).
    """

    KEY_FILE = "launchpack-env.json"

    def load(self, venv_dir: str) -> dict[str, str] | None:
        if not os.path.isfile(pythonenv.python_of(venv_dir)):
            return None
        try:
            with open(os.path.join(venv_dir, self.KEY_FILE), encoding="utf-8") as handle:
                key = json.load(handle).get("key")
        except (OSError, ValueError, AttributeError):
            return None
        return key if isinstance(key, dict) else None

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        path = os.path.join(venv_dir, self.KEY_FILE)
        with open(path + ".new", "w", encoding="utf-8") as handle:
            json.dump({"key": key}, handle)
        os.replace(path + ".new", path)


class DirectoryStore:
    """Keeps a copy of the environment in a cache directory (Heroku's CACHE_DIR).

    Each save writes a complete new copy next to the old one, then switches the `current`
    symlink to it with one atomic rename, so a build killed at any point leaves either the
    previous environment or the new one. Copies that lost the race are removed later.
    """

    def __init__(self, cache_dir: str, app_dir: str):
        self.root = os.path.join(cache_dir, "env")
        self.app_dir = app_dir

    def _current(self) -> str:
        return os.path.join(self.root, "current")

    def load(self, venv_dir: str) -> dict[str, str] | None:
        current = self._current()
        try:
            with open(os.path.join(current, "key.json"), encoding="utf-8") as handle:
                meta = json.load(handle)
        except (OSError, ValueError):
            return None
        if not os.path.isdir(os.path.join(current, "venv")):
            return None
        if os.path.lexists(venv_dir):
            shutil.rmtree(venv_dir)
        shutil.copytree(os.path.join(current, "venv"), venv_dir, symlinks=True)
        # Editable installs (.pth files) point into the app dir the environment was built in.
        pythonenv.make_relocatable(venv_dir, meta.get("built_in"), self.app_dir)
        return meta.get("key")

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        os.makedirs(self.root, exist_ok=True)
        fresh = tempfile.mkdtemp(prefix="env-", dir=self.root)
        shutil.copytree(venv_dir, os.path.join(fresh, "venv"), symlinks=True)
        with open(os.path.join(fresh, "key.json"), "w", encoding="utf-8") as handle:
            json.dump({"key": key, "built_in": self.app_dir}, handle)
        link = os.path.join(self.root, "current.new")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.basename(fresh), link)
        os.replace(link, self._current())  # the one atomic step
        for name in os.listdir(self.root):
            if name.startswith("env-") and name != os.path.basename(fresh):
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
