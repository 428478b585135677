"""Reusing a build step's output when every input of the step is unchanged.

A step (Django's collectstatic) is a function of its inputs: the app's environment (its reuse
key), the app's files as they are when the step runs (after the build hooks), the config vars,
and launchpack's own version of the step. When the digest of all of them matches the last
build's, the step's output directories and result are restored instead of running the step.

Entries are written like DirectoryStore's: a complete new directory, then one atomic symlink
swap, so a build killed at any point leaves the previous entry or the new one. Files are
hardlinked (and made read-only in the cache), and checked against a manifest when restored,
as for the environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Mapping

from runtime import crashpoints, envcache, errors

# Apps bigger than this are not digested: hashing them could cost more than the step saves.
MAX_FILES = 5000
MAX_BYTES = 64 * 1024 * 1024
SKIP_DIRS = {".git", "__pycache__", ".hg", ".svn"}


def tree_digest(root: str, skip: Iterable[str] = ()) -> str | None:
    """A digest of every file's relative path, mode and content under root, or None if the
    tree is too big to be worth it. `skip`: top-level names to leave out (generated output)."""
    skipped = set(skip)
    digest = hashlib.sha256()
    count = size = 0
    for directory, dirs, files in os.walk(root, onerror=_unreadable(root)):
        top = os.path.relpath(directory, root) == "."
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not (top and d in skipped))
        for name in sorted(files):
            if top and name in skipped:
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                digest.update(f"L {relative} {os.readlink(path)}\0".encode())
                continue
            try:
                info = os.stat(path)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block open() forever (runtime/apptree.py)
                digest.update(f"S {relative} {stat.S_IFMT(info.st_mode)}\0".encode())
                continue
            count, size = count + 1, size + info.st_size
            if count > MAX_FILES or size > MAX_BYTES:
                return None
            digest.update(f"F {relative} {info.st_mode & 0o111}\0".encode())
            try:
                with open(path, "rb") as handle:
                    digest.update(hashlib.sha256(handle.read()).digest())
            except OSError as exc:
                _unreadable(root)(exc)
    return digest.hexdigest()


def _unreadable(root: str) -> Callable[[OSError], None]:
    """A file or directory of the app the build cannot read (a hook ran chmod 000 on it): the
    failure it is, naming the file, rather than a traceback (os.walk would skip a directory)."""

    def fail(exc: OSError) -> None:
        path = exc.filename or root
        raise errors.AppFileUnreadable(path=os.path.relpath(path, root), reason=exc.strerror or str(exc)) from None

    return fail


def mapping_digest(values: Mapping[str, object]) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


class StepCache:
    """One cached output per step name, under CACHE_DIR/launchpack/steps/<name>."""

    def __init__(self, cache_dir: str | None, name: str, description: str = ""):
        self.root = os.path.join(cache_dir, "steps", name) if cache_dir else None
        self.description = description or f"the result of the step {name}"

    def _current(self) -> str:
        return os.path.join(self.root or "", "current")

    def restore(self, digest: str, targets_for: Callable[[dict], Mapping[str, str]]) -> dict | None:
        """If the last entry has this digest, restore its directories to targets_for(result)
        (name -> path) and return its result; else None."""
        if not self.root:
            return None
        current = self._current()
        entry = envcache.read_current(self.root, "entry.json")
        if entry is None or entry.get("digest") != digest:
            return None
        targets = targets_for(entry.get("result") or {})
        if set(entry.get("dirs", [])) != set(targets):
            return None
        manifests = entry.get("manifests") or {}
        for name, target in targets.items():
            if os.path.lexists(target):
                shutil.rmtree(target)
            saved = os.path.join(current, "dirs", name)
            envcache.copy_tree(saved, target)
            # An entry whose files changed after it was saved (or a short copy) is not the step's
            # output: run the step again rather than ship part of it.
            manifest = manifests.get(name) or {}
            if envcache.manifest_problem(saved, manifest, "the entry") or envcache.tree_entries(target) != manifest.get(
                "entries"
            ):
                for other in targets.values():
                    shutil.rmtree(other, ignore_errors=True)
                return None
        return entry.get("result")

    def save(self, digest: str, result: dict, sources: Mapping[str, str]) -> None:
        if not self.root:
            return
        fresh = None
        try:
            os.makedirs(self.root, exist_ok=True)
            fresh = tempfile.mkdtemp(prefix="entry-", dir=self.root)
            for name, source in sources.items():
                target = os.path.join(fresh, "dirs", name)
                if os.path.isdir(source):
                    envcache.copy_tree(source, target)
                else:
                    os.makedirs(target)
            crashpoints.reached("step-save-copied")
            manifests = {}
            for name in sources:
                envcache.make_read_only(os.path.join(fresh, "dirs", name))
                manifests[name] = envcache.tree_manifest(os.path.join(fresh, "dirs", name))
            entry = {"digest": digest, "dirs": sorted(sources), "result": result, "manifests": manifests}
            envcache.make_current(self.root, fresh, "entry.json", entry)
        except OSError as exc:  # the cache's disk is full or read-only: the build is fine without it
            if fresh:
                shutil.rmtree(fresh, ignore_errors=True)
            envcache.note_unsaved(self.description, exc)
            return
        for name in os.listdir(self.root):
            if name.startswith("entry-") and name != os.path.basename(fresh):
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
