"""Reusing the app's Python environment between builds.

The environment is reused as is (no installer runs) when every input that decides its contents
is unchanged; otherwise the build says which inputs changed and builds it again. The key is
pure data, computed the same way for every platform; where the environment is kept between
builds is the platform's business (an EnvStore): Heroku's CACHE_DIR, a CNB layer, the local
env dir.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from runtime import crashpoints, pythonenv

# Bump when a change to launchpack changes what an environment contains.
ENV_FORMAT = "2"


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


def per_file_digests(paths: Iterable[str], base: str | None) -> str:
    """'name=digest name=digest ...' (names relative to base), so a rebuild can say which file
    changed. Spaces in names are escaped; the value stays a plain string (stores keep str->str)."""
    entries = []
    for path in sorted(set(paths)):
        name = os.path.relpath(path, base) if base and os.path.isabs(path) else path
        entries.append(name.replace("%", "%25").replace(" ", "%20") + "=" + file_digest([path])[:16])
    return " ".join(entries)


def _parse_per_file(value: str | None) -> dict[str, str]:
    result = {}
    for entry in (value or "").split():
        name, _, digest = entry.rpartition("=")
        result[name.replace("%20", " ").replace("%25", "%")] = digest
    return result


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
    python_version: str,
    installer: str,
    dependency_files: Iterable[str],
    extra_requirements: Iterable[str],
    *,
    app_dir: str | None = None,
    source: str = "",
    server: str = "",
) -> dict[str, str]:
    """Every input that decides what the app's environment contains (all values are strings).

    python_version: the full version (and "(uv-managed)" for a downloaded interpreter);
    installer: the installers and their versions, e.g. "uv 0.13.9";
    dependency_files: absolute paths of every file the installer reads (nested -r/-c included);
    extra_requirements: what launchpack adds for the web server; server: which server.
    """
    files = list(dependency_files)
    return {
        "format": ENV_FORMAT,
        "python": python_version,
        "stack": stack_id(),
        "arch": platform.machine(),
        "installer": installer,
        "source": source,
        "dependencies": file_digest(files),
        "dependency_files": per_file_digests(files, app_dir),
        "server": server,
        "extra_requirements": " ".join(sorted(extra_requirements)),
    }


LABELS = {
    "format": "launchpack's environment format changed",
    "python": "the Python version changed",
    "stack": "the stack changed",
    "arch": "the CPU architecture changed",
    "installer": "the installer changed",
    "source": "the dependency source changed",
    "server": "the web server changed",
    "extra_requirements": "the packages launchpack adds for the web server changed",
}


def _file_reasons(old: str | None, new: str | None) -> list[str]:
    before, after = _parse_per_file(old), _parse_per_file(new)
    reasons = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            reasons.append(f"{name} was added")
        elif name not in after:
            reasons.append(f"{name} was removed")
        elif before[name] != after[name]:
            reasons.append(f"{name} changed")
    return reasons


def reasons_to_rebuild(previous: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """Why a previous environment cannot be reused (one line per changed input); empty when it can."""
    if not previous:
        return ["there is no previous environment"]
    reasons = []
    for key, value in current.items():
        old = previous.get(key)
        if old == value or key == "dependency_files":
            continue
        if key == "dependencies":
            reasons.extend(_file_reasons(previous.get("dependency_files"), current.get("dependency_files")))
            if not reasons:
                reasons.append("the dependency files changed")
        elif key in ("format",):
            reasons.append(LABELS[key])
        else:
            reasons.append(f"{LABELS.get(key, key + ' changed')} ({old or 'none'} -> {value or 'none'})")
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
        self.restored = False  # whether venv_dir holds the previous environment
        self.problem: str | None = None  # why a saved environment was not restored (stores that say)

    def load(self, venv_dir: str) -> dict[str, str] | None:
        key = self.store.load(venv_dir)
        self.restored = key is not None
        self.problem = None if self.restored else getattr(self.store, "problem", None)
        # A peeked entry that then fails to restore keeps its key: the build says it was discarded.
        if key is not None or not self.previous_key:
            self.previous_key = key
        return key

    def peek(self) -> dict[str, str] | None:
        """The saved environment's key without restoring it, if the store can tell (optional
        EnvStore method `peek() -> key | None`); lets a build that will not reuse the environment
        skip restoring it. Stores without it are loaded as before."""
        peek = getattr(self.store, "peek", None)
        self.previous_key = peek() if peek else None
        return self.previous_key

    @property
    def can_peek(self) -> bool:
        return callable(getattr(self.store, "peek", None))

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
    """Keeps the environment in a cache directory (Heroku's CACHE_DIR).

    Each save writes a complete new copy next to the old one, then switches the `current`
    symlink to it with one atomic rename, so a build killed at any point leaves either the
    previous environment or the new one; copies that lost the race are removed by the next save.

    Copies are hardlink trees (`cp -al`) when the cache and the app are on one filesystem: an
    environment is thousands of files and directories, and writing them again on every build is
    most of a warm build's time. That is safe because nothing rewrites a file of a saved
    environment in place: launchpack's own rewrites replace files (write, then rename), installers
    only run on fresh environments, and the saved files are made read-only against anything else.
    The slug compiler archives the app dir (tar), so the slug never shares files with the cache.

    Each entry records a manifest of its files (tree_manifest: every file's size and digest), and
    a restored copy must match it, with a working interpreter: the key only says what the
    environment should contain, and everything keyed on it (the step cache) would trust it too.
    """

    def __init__(self, cache_dir: str, app_dir: str):
        self.root = os.path.join(cache_dir, "env")
        self.app_dir = app_dir
        self.problem: str | None = None  # why the last load did not restore the saved entry

    def _current(self) -> str:
        return os.path.join(self.root, "current")

    def _meta(self) -> dict | None:
        meta = read_current(self.root, "key.json")
        return meta if meta is not None and os.path.isdir(os.path.join(self._current(), "venv")) else None

    def peek(self) -> dict[str, str] | None:
        meta = self._meta()
        return meta.get("key") if meta else None

    def load(self, venv_dir: str) -> dict[str, str] | None:
        self.problem = None
        current = self._current()
        meta = self._meta()
        if meta is None:
            return None
        self._remove_stale(os.path.basename(os.path.realpath(current)))
        if os.path.lexists(venv_dir):
            shutil.rmtree(venv_dir)
        entry = os.path.join(os.path.realpath(current), "venv")
        # The key says what the environment should contain, not what the saved copy does: an
        # entry whose files changed after it was saved, or a copy that came out short, must not
        # be trusted (every step keyed on the environment would trust it too). Checked while the
        # copy is made (cp, another process: the check costs a warm rebuild next to nothing).
        with ThreadPoolExecutor(1) as pool:
            checked = pool.submit(manifest_difference, entry, meta.get("manifest"), "the cached environment")
            copy_tree(entry, venv_dir)
            changed, problem = checked.result()
        if problem is None and tree_entries(venv_dir) != (meta.get("manifest") or {}).get("entries"):
            problem = "the copy of the cached environment came out incomplete"
        if problem is None:
            broken = pythonenv.interpreter_problem(venv_dir)
            problem = f"the cached environment's interpreter would not start: {broken}" if broken else None
        if problem is not None:
            self.problem = problem
            shutil.rmtree(venv_dir, ignore_errors=True)
            if changed:
                forget_shared_copies(os.path.join(entry, changed), os.path.dirname(self.root))
            # Discarded, not kept for the next build to check again (should this one not save).
            with contextlib.suppress(OSError):
                os.unlink(current)
                remove_later([os.path.dirname(entry)])
            return None
        # Editable installs (.pth files) point into the app dir the environment was built in.
        pythonenv.make_relocatable(venv_dir, meta.get("built_in"), self.app_dir)
        return meta.get("key")

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        fresh = None
        try:
            os.makedirs(self.root, exist_ok=True)
            fresh = tempfile.mkdtemp(prefix="env-", dir=self.root)
            # The manifest is made from the environment while cp copies it (as load checks it):
            # the copy holds the same bytes, and a copy that does not is found by the next load.
            with ThreadPoolExecutor(1) as pool:
                made = pool.submit(tree_manifest, venv_dir)
                copy_tree(venv_dir, os.path.join(fresh, "venv"))
                manifest = made.result()
            crashpoints.reached("env-save-copied")
            if make_read_only(os.path.join(fresh, "venv")) != manifest["entries"]:
                raise OSError(errno.EIO, "the copy came out incomplete", os.path.join(fresh, "venv"))
            make_current(self.root, fresh, "key.json", {"key": key, "built_in": self.app_dir, "manifest": manifest})
        except OSError as exc:  # the cache's disk is full or read-only: the build is fine without it
            if fresh:
                shutil.rmtree(fresh, ignore_errors=True)
            note_unsaved("the app's Python environment", exc)
            return
        crashpoints.reached("env-save-swapped")
        self._remove_stale(os.path.basename(fresh))

    def _remove_stale(self, keep: str) -> None:
        """Entries other than the current one: replaced, or left by a build killed while saving."""
        stale = [os.path.join(self.root, n) for n in os.listdir(self.root) if n.startswith("env-") and n != keep]
        remove_later(stale)


def read_current(root: str, name: str) -> dict | None:
    """The JSON file `name` of root's current entry (see make_current), or None."""
    try:
        with open(os.path.join(root, "current", name), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def make_current(root: str, fresh: str, name: str, data: dict) -> None:
    """Finish the complete new entry directory `fresh` (its JSON file `name`, synced), then make
    it root's current entry by switching the `current` symlink with one atomic rename: a build
    killed at any point leaves either the previous entry or this one."""
    with open(os.path.join(fresh, name), "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    link = os.path.join(root, "current.new")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.path.basename(fresh), link)
    os.replace(link, os.path.join(root, "current"))  # the one atomic step


def remove_later(paths: list[str]) -> None:
    """Delete directory trees in a background thread that the build's process waits for before it
    exits (a non-daemon thread): deleting thousands of files overlaps the build's other steps
    instead of adding to them. A build killed meanwhile leaves them for the next build."""
    if paths:
        threading.Thread(target=lambda: [shutil.rmtree(p, ignore_errors=True) for p in paths]).start()


# A failed copy names at most this many of the files it could not write: an environment is
# thousands of files, and a full disk fails every one of them.
COPY_ERRORS_SHOWN = 5
_CP_FAULTS = {
    "No space left on device": errno.ENOSPC,
    "Disk quota exceeded": errno.EDQUOT,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


class CopyError(OSError):
    """A copy that failed: errno and strerror of its first failure, filename the first path it
    named, details a few of its messages (COPY_ERRORS_SHOWN) and how many more there were."""

    def __init__(self, code: int | None, reason: str, path: str, messages: list[str]):
        super().__init__(code, reason, path)
        shown = messages[:COPY_ERRORS_SHOWN]
        more = len(messages) - len(shown)
        self.details = "\n".join(shown + ([f"(and {more} more)"] if more > 0 else []))

    @classmethod
    def from_messages(cls, source: str, target: str, messages: list[str]) -> CopyError:
        for message in messages:
            for text, code in _CP_FAULTS.items():
                if text in message:
                    quoted = re.search(r"'([^']+)'", message)
                    return cls(code, text, quoted.group(1) if quoted else target, messages)
        return cls(None, "the copy failed", target, messages or [f"copying {source} to {target} failed"])


def copy_tree(source: str, target: str) -> None:
    """A copy of a directory tree: hardlinked files where possible (same filesystem, our own
    files), else real copies. Symlinks are kept as symlinks. Raises CopyError, target removed."""
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    linked = subprocess.run(["cp", "-al", source, target], capture_output=True)
    if linked.returncode == 0:
        return
    shutil.rmtree(target, ignore_errors=True)
    copied = subprocess.run(["cp", "-a", source, target], capture_output=True, text=True, errors="replace")
    if copied.returncode == 0:
        return
    shutil.rmtree(target, ignore_errors=True)
    messages = copied.stderr.splitlines()
    failure = CopyError.from_messages(source, target, messages)
    if failure.errno is not None:  # the disk or the filesystem: copying again would fail alike
        raise failure
    try:  # cp -a also fails on what it cannot preserve (attributes some filesystems lack)
        shutil.copytree(source, target, symlinks=True)
    except shutil.Error as exc:
        shutil.rmtree(target, ignore_errors=True)
        failed = exc.args[0] if exc.args and isinstance(exc.args[0], list) else []
        listed = [f"{src}: {why}" for src, _dst, why in failed]
        raise CopyError.from_messages(source, target, listed or messages) from None
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        raise


# What this build could not save to the cache, warned about once at its end (see note_unsaved).
_unsaved: list[tuple[str, OSError]] = []


def note_unsaved(what: str, exc: OSError) -> None:
    """A cache entry that could not be written (disk full, read-only): the build goes on without
    it, and the pipeline warns at the end (take_unsaved). A cache must never fail a build."""
    _unsaved.append((what, exc))


def take_unsaved() -> list[tuple[str, OSError]]:
    taken = list(_unsaved)
    _unsaved.clear()
    return taken


def tree_entries(root: str) -> int:
    """How many files, links and directories a tree holds: the record a cache entry keeps of
    itself, checked when it is restored."""
    return sum(len(dirs) + len(files) for _directory, dirs, files in os.walk(root))


def make_read_only(root: str) -> int:
    """Protect a cached tree from in-place writes through its hardlinks (files only: directories
    stay writable, so files can still be replaced or removed). Returns tree_entries(root)."""
    entries = 0
    for directory, dirs, files in os.walk(root):
        entries += len(dirs) + len(files)
        for name in files:
            path = os.path.join(directory, name)
            try:
                mode = os.lstat(path).st_mode
                if stat.S_ISREG(mode) and mode & 0o222:
                    os.chmod(path, stat.S_IMODE(mode) & ~0o222)
            except OSError:
                pass
    return entries


# A manifest records what every regular file of a cache entry held when it was saved (size and
# content digest) and where every symlink points. A restored entry is checked against it: the key
# says what an environment should contain, the manifest what the saved copy did contain, so a file
# truncated or rewritten in place after the save (a hook writing through a hardlink, a disk fault,
# a half-restored cache) is found and the entry rebuilt instead of shipped.
#
# Every file is hashed, not a sample: a truncated .pyc or .so crashes the app as surely as a .py.
# That reads the whole environment (Django's: 6,000 files, 90 MB, ~0.2 s), which DirectoryStore
# overlaps with the copy (`cp -al`, a process of its own) so that a warm rebuild does not wait
# for it (see bench/build_bench.py; numbers in the issue-10 commit).
MANIFEST_FORMAT = 1


def file_fingerprint(path: str) -> str:
    """A content digest of one file (truncated: it detects faults, it is no signature)."""
    with open(path, "rb") as handle:
        if hasattr(hashlib, "file_digest"):  # 3.11+: reads into one buffer, without copies
            return hashlib.file_digest(handle, "sha256").hexdigest()[:32]
        return hashlib.sha256(handle.read()).hexdigest()[:32]


def _walk_entries(root: str, skip: Collection[str] = ()) -> tuple[dict[str, int], dict[str, str], int]:
    """(regular files: relative path -> size, symlinks: relative path -> target, tree_entries).
    scandir, not os.walk: a warm rebuild walks every entry, and this is twice as fast.
    skip: top-level names left out (a manifest kept inside the tree it describes)."""
    files: dict[str, int] = {}
    links: dict[str, str] = {}
    entries = 0
    pending = [""]
    while pending:
        relative_dir = pending.pop()
        with os.scandir(os.path.join(root, relative_dir) if relative_dir else root) as listing:
            for entry in listing:
                if not relative_dir and entry.name in skip:
                    continue
                entries += 1
                relative = relative_dir + "/" + entry.name if relative_dir else entry.name
                if entry.is_symlink():
                    links[relative] = os.readlink(entry.path)
                elif entry.is_dir():
                    pending.append(relative)
                elif entry.is_file():
                    files[relative] = entry.stat(follow_symlinks=False).st_size
    return files, links, entries


def tree_manifest(root: str, skip: Collection[str] = ()) -> dict:
    """What root holds now: {"format", "entries", "files": {path: [size, digest]}, "links": {path: target}}."""
    files, links, entries = _walk_entries(root, skip)
    return {
        "format": MANIFEST_FORMAT,
        "entries": entries,
        "files": {name: [size, file_fingerprint(os.path.join(root, name))] for name, size in sorted(files.items())},
        "links": links,
    }


def manifest_problem(root: str, manifest: object, what: str, **options) -> str | None:
    """Why the tree at root is not the one `manifest` recorded, as one line naming the first file
    that differs, or None. `what` names the tree for the message ("the cached environment")."""
    return manifest_difference(root, manifest, what, **options)[1]


def manifest_difference(
    root: str,
    manifest: object,
    what: str,
    skip: Collection[str] = (),
    tolerate_added: Callable[[str], bool] | None = None,
) -> tuple[str | None, str | None]:
    """(the regular file that changed in content or size, if that is the difference; why the tree
    differs from its manifest, or None). skip: as for tree_manifest; tolerate_added: files the
    tree may have gained since (a tool's Python writes its own __pycache__)."""
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        return None, f"{what} has no record of its files (saved by an older launchpack)"
    recorded, recorded_links = manifest.get("files") or {}, manifest.get("links") or {}
    try:
        sizes, links, entries = _walk_entries(root, skip)
    except OSError as exc:
        return None, f"{what} could not be read ({exc.strerror}: {exc.filename})"
    if tolerate_added is not None:
        sizes = {n: size for n, size in sizes.items() if n in recorded or not tolerate_added(n)}
        entries = manifest.get("entries")  # added directories are tolerated with their files
    # Sizes and links first (a stat per file): most faults, truncation above all, change a size.
    for name in sorted(set(recorded) | set(sizes)):
        if name not in sizes:
            return (
                None,
                f"{what}'s {name} {'is no longer a file' if name in links else 'is missing'} since it was saved",
            )
        if name not in recorded:
            return None, f"{what}'s {name} was added since it was saved"
        if sizes[name] != recorded[name][0]:
            return name, f"{what}'s {name} changed since it was saved (size {recorded[name][0]} -> {sizes[name]})"
    for name in sorted(set(recorded_links) | set(links)):
        if links.get(name) != recorded_links.get(name):
            return None, f"{what}'s link {name} changed since it was saved"
    if entries != manifest.get("entries"):
        return (
            None,
            f"{what} holds {entries} files and directories, not the {manifest.get('entries')} it was saved with",
        )
    for name in sorted(sizes):
        try:
            digest = file_fingerprint(os.path.join(root, name))
        except OSError as exc:
            return None, f"{what}'s {name} could not be read ({exc.strerror})"
        if digest != recorded[name][1]:
            return name, f"{what}'s {name} changed since it was saved (same size, different content)"
    return None, None


def forget_shared_copies(path: str, cache_root: str) -> list[str]:
    """Remove uv's unpacked wheels (CACHE_DIR/launchpack/uv-cache/archive-*/<id>) that share the
    changed file at `path`: environments are hardlinked out of uv's cache, so a file rewritten in
    place is rewritten there too, and a rebuild would link the same broken file back. uv unpacks
    a removed archive again from the wheel it keeps (or downloads it). Returns what was removed."""
    try:
        info = os.stat(path)
    except OSError:
        return []
    if info.st_nlink < 2:
        return []
    removed = []
    uv_cache = os.path.join(cache_root, "uv-cache")
    buckets = [b for b in _listdir(uv_cache) if b.startswith("archive-")]
    for bucket in buckets:
        for archive in _listdir(os.path.join(uv_cache, bucket)):
            top = os.path.join(uv_cache, bucket, archive)
            if any(_same_file(os.path.join(d, n), info) for d, _dirs, names in os.walk(top) for n in names):
                shutil.rmtree(top, ignore_errors=True)
                removed.append(top)
    return removed


def _listdir(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


def _same_file(path: str, info: os.stat_result) -> bool:
    try:
        other = os.lstat(path)
    except OSError:
        return False
    return other.st_ino == info.st_ino and other.st_dev == info.st_dev
