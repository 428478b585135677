"""Compiled code in the app's environment finds its libraries inside the environment.

mod_wsgi, uWSGI and any C extension built from source against uv's managed CPython link to its
shared libpython, and record where it was at build time as an ELF RUNPATH (or the older RPATH):
mod_wsgi's setup.py and uWSGI's build add ``-Wl,-rpath,<LIBDIR>``, and LIBDIR is the managed
interpreter's install location in the build cache. A slug or an image has no cache, so the
process would die with ``libpython3.12.so.1.0: cannot open shared object file`` on a build
that passed. The environment carries its own copy of the interpreter (pythonenv.create,
``venv/interpreter``), so such entries are rewritten to ``$ORIGIN``-relative paths to the
same directory in that copy, which travel with the environment.

Why a small rewriter here and not patchelf: it changes nothing in a file but the bytes of the
RUNPATH string itself, in its own slot of the dynamic string table (the ``$ORIGIN/...`` path is
shorter than the absolute cache path it replaces: the dynamic linker reads up to the first NUL).
No section or segment moves, so it cannot break a binary the way growing a dynamic section can,
it needs no download (the buildpack stays standard library only, and works offline), and it
reads both ELF classes and byte orders. What it cannot do, make a string longer, it refuses with
a named error rather than writing a broken file; so does it when another string of the table
shares the slot's bytes (a linker may merge a string into the tail of another).
"""

from __future__ import annotations

import os
import stat
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from runtime import errors

ELF_MAGIC = b"\x7fELF"
PT_LOAD, PT_DYNAMIC = 1, 2
DT_NULL, DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 10, 14, 15, 29
# Dynamic tags whose value is an offset into the dynamic string table.
STRING_TAGS = {DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH, 0x6FFFFEFA, 0x6FFFFEFB, 0x6FFFFEFC, 0x7FFFFFFD, 0x7FFFFFFF}
SHT_DYNSYM, SHT_GNU_VERDEF, SHT_GNU_VERNEED = 11, 0x6FFFFFFD, 0x6FFFFFFE
TAG_NAMES = {DT_RPATH: "RPATH", DT_RUNPATH: "RUNPATH"}


class NotElf(ValueError):
    pass


@dataclass(frozen=True)
class RunPath:
    """One DT_RPATH or DT_RUNPATH string of an ELF file."""

    tag: int
    value: str
    offset: int  # of the string in the file
    shared: bool  # another string of the table points into this one's bytes

    @property
    def kind(self) -> str:
        return TAG_NAMES[self.tag]

    @property
    def entries(self) -> list[str]:
        return [e for e in self.value.split(":") if e]


@dataclass(frozen=True)
class Relocation:
    """How library paths of an environment map to its run location.

    moves: (old directory, directory inside the environment): an entry under an old directory
    is pointed at the same place under the new one, relative to the file ($ORIGIN).
    build_only: directories that do not exist where the app runs (the build cache, Heroku's
    build dir): no entry may be left pointing into them.
    """

    moves: tuple[tuple[str, str], ...]
    build_only: tuple[str, ...]


def for_environment(
    venv_dir: str, interpreter_home: str | None, app_dir: str, cache_dir: str | None, app_moves: bool
) -> Relocation:
    """The Relocation of an environment that carries its own interpreter (venv_dir/interpreter,
    copied from interpreter_home when that is a uv-managed installation in the cache).

    app_moves: the app dir is not where the app runs (Heroku's build dir): entries into it
    become relative too, and none may remain."""
    venv_dir, app_dir = os.path.abspath(venv_dir), os.path.abspath(app_dir)
    moves = [(venv_dir, venv_dir)]
    if interpreter_home:
        moves.insert(0, (interpreter_home, os.path.join(venv_dir, "interpreter")))
    if app_moves and (venv_dir + os.sep).startswith(app_dir + os.sep):
        moves.append((app_dir, app_dir))
    build_only = ([cache_dir] if cache_dir else []) + ([app_dir] if app_moves else [])
    return Relocation(tuple(moves), tuple(build_only))


def is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


class _Reader:
    def __init__(self, data: bytes):
        if len(data) < 52 or data[:4] != ELF_MAGIC:
            raise NotElf("not an ELF file")
        if data[4] not in (1, 2) or data[5] not in (1, 2):
            raise NotElf("unknown ELF class or byte order")
        self.data = data
        self.wide = data[4] == 2
        self.order = "<" if data[5] == 1 else ">"
        self.word = "Q" if self.wide else "I"

    def unpack(self, fmt: str, offset: int) -> tuple:
        fmt = self.order + fmt
        if offset < 0 or offset + struct.calcsize(fmt) > len(self.data):
            raise NotElf("truncated ELF file")
        return struct.unpack_from(fmt, self.data, offset)

    def header(self) -> tuple[int, int, int, int, int, int]:
        """(phoff, phentsize, phnum, shoff, shentsize, shnum)"""
        if self.wide:
            phoff, shoff = self.unpack("QQ", 0x20)
            phentsize, phnum, shentsize, shnum = self.unpack("HHHH", 0x36)
        else:
            phoff, shoff = self.unpack("II", 0x1C)
            phentsize, phnum, shentsize, shnum = self.unpack("HHHH", 0x2A)
        return phoff, phentsize, phnum, shoff, shentsize, shnum

    def segments(self) -> Iterator[tuple[int, int, int, int]]:
        """(type, file offset, virtual address, file size) of each program header."""
        phoff, phentsize, phnum, *_ = self.header()
        for i in range(phnum):
            at = phoff + i * phentsize
            if self.wide:
                p_type, _flags, offset, vaddr, _paddr, filesz = self.unpack("IIQQQQ", at)
            else:
                p_type, offset, vaddr, _paddr, filesz = self.unpack("IIIII", at)
            yield p_type, offset, vaddr, filesz

    def sections(self) -> Iterator[tuple[int, int, int, int, int]]:
        """(type, file offset, size, link, entsize) of each section header."""
        _, _, _, shoff, shentsize, shnum = self.header()
        for i in range(shnum if shoff else 0):
            at = shoff + i * shentsize
            if self.wide:
                _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize = self.unpack(
                    "IIQQQQIIQQ", at
                )
            else:
                _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize = self.unpack(
                    "IIIIIIIIII", at
                )
            yield sh_type, offset, size, link, entsize

    def file_offset(self, vaddr: int) -> int:
        for p_type, offset, start, size in self.segments():
            if p_type == PT_LOAD and start <= vaddr < start + size:
                return offset + vaddr - start
        raise NotElf(f"address {vaddr:#x} is in no loaded segment")

    def dynamic(self) -> list[tuple[int, int]]:
        """The (tag, value) entries of the dynamic section; [] for a static file."""
        for p_type, offset, _vaddr, size in self.segments():
            if p_type == PT_DYNAMIC:
                fmt, entries = ("qQ" if self.wide else "iI"), []
                step = struct.calcsize(self.order + fmt)
                for at in range(offset, offset + size - step + 1, step):
                    tag, value = self.unpack(fmt, at)
                    if tag == DT_NULL:
                        break
                    entries.append((tag, value))
                return entries
        return []

    def string(self, offset: int) -> bytes:
        end = self.data.find(b"\0", offset)
        if offset >= len(self.data) or end < 0:
            raise NotElf("string outside the file")
        return self.data[offset:end]

    def other_string_offsets(self, strtab: int) -> set[int]:
        """String table offsets used by the symbol and version tables that share the dynamic
        string table (found by the section headers, whose link names the table)."""
        found: set[int] = set()
        sections = list(self.sections())
        for sh_type, offset, size, link, entsize in sections:
            if not (0 <= link < len(sections)) or sections[link][1] != strtab:
                continue
            if sh_type == SHT_DYNSYM and entsize:
                found.update(self.unpack("I", at)[0] for at in range(offset, offset + size - entsize + 1, entsize))
            elif sh_type == SHT_GNU_VERNEED:
                at = offset
                for _ in range(size):  # bounded: vn_next chains stay within the section
                    _version, count, file, aux, following = self.unpack("HHIII", at)
                    found.add(file)
                    aux_at = at + aux
                    for _ in range(count):
                        _hash, _flags, _other, name, aux_next = self.unpack("IHHII", aux_at)
                        found.add(name)
                        aux_at += aux_next
                    if not following:
                        break
                    at += following
            elif sh_type == SHT_GNU_VERDEF:
                at = offset
                for _ in range(size):
                    _version, _flags, _ndx, count, _hash, aux, following = self.unpack("HHHHIII", at)
                    aux_at = at + aux
                    for _ in range(count):
                        name, aux_next = self.unpack("II", aux_at)
                        found.add(name)
                        aux_at += aux_next
                    if not following:
                        break
                    at += following
        return found


def _read(data: bytes) -> list[RunPath]:
    reader = _Reader(data)
    dynamic = reader.dynamic()
    tags = dict(dynamic)
    paths = [(tag, value) for tag, value in dynamic if tag in (DT_RPATH, DT_RUNPATH)]
    if not paths:
        return []
    if DT_STRTAB not in tags:
        raise NotElf("a dynamic section without a string table")
    strtab = reader.file_offset(tags[DT_STRTAB])
    strsz = tags.get(DT_STRSZ, len(data) - strtab)
    used = {value for tag, value in dynamic if tag in STRING_TAGS}
    used |= reader.other_string_offsets(strtab)
    found = []
    for tag, index in paths:
        if index >= strsz:
            raise NotElf("a RUNPATH outside the string table")
        raw = reader.string(strtab + index)
        shared = any(index < other < index + len(raw) for other in used)
        found.append(RunPath(tag, raw.decode("utf-8", "surrogateescape"), strtab + index, shared))
    return found


def read_runpaths(path: str) -> list[RunPath]:
    """The RPATH and RUNPATH strings of an ELF file ([] when it has none). Raises NotElf."""
    with open(path, "rb") as handle:
        return _read(handle.read())


def relocated(entry: str, directory: str, moves: Sequence[tuple[str, str]]) -> str:
    """entry, a RUNPATH entry of a file in directory, pointed at its new place ($ORIGIN-relative)
    when it is under one of the moved directories; otherwise unchanged."""
    if not entry.startswith("/"):
        return entry  # $ORIGIN/..., or relative (to the working directory: left as the linker made it)
    candidates = [os.path.normpath(entry), os.path.realpath(entry)]
    for old, new in moves:
        for old_form in {os.path.normpath(old), os.path.realpath(old)}:
            for candidate in candidates:
                if candidate == old_form or candidate.startswith(old_form.rstrip("/") + "/"):
                    target = os.path.normpath(new + candidate[len(old_form) :])
                    relative = os.path.relpath(target, directory)
                    return "$ORIGIN" if relative == "." else "$ORIGIN/" + relative
    return entry


def resolve(entry: str, directory: str) -> str:
    """Where an entry points, for a file in directory."""
    for form in ("${ORIGIN}", "$ORIGIN"):
        if entry.startswith(form):
            return os.path.normpath(directory + entry[len(form) :])
    return os.path.normpath(entry)


def new_value(value: str, directory: str, moves: Sequence[tuple[str, str]], build_only: Sequence[str] = ()) -> str:
    """The RUNPATH/RPATH value for a file in directory: entries under a moved directory are
    relocated; absolute entries into a build-only directory that does not even exist now are
    dropped. Those are leftovers of the build, which the dynamic linker skips today and which
    could only ever name the wrong place: uv builds sdists in a temporary environment in its
    cache (mod_wsgi records .../builds-v0/.tmpXXXX/lib/python3.X/config, gone once it is built).
    An entry into a build-only directory that exists is kept, for the check to report."""
    entries = []
    for entry in value.split(":"):
        moved = relocated(entry, directory, moves)
        if moved == entry and entry.startswith("/") and _under(entry, build_only) and not os.path.isdir(entry):
            continue
        entries.append(moved)
    # Never an empty value: keep a harmless entry, the file's own directory.
    return ":".join(entries) if entries else "$ORIGIN"


def rewrite(path: str, moves: Sequence[tuple[str, str]], build_only: Sequence[str] = ()) -> bool:
    """Rewrite the RUNPATH/RPATH of one ELF file (see new_value). Returns whether it changed.

    The file is replaced (new file, then rename), never written in place: it may share its inode
    with the cached environment or the uv cache (hardlinks), or be read-only."""
    with open(path, "rb") as handle:
        data = bytearray(handle.read())
    directory = os.path.dirname(os.path.abspath(path))
    changed = False
    for runpath in _read(bytes(data)):
        value = new_value(runpath.value, directory, moves, build_only)
        if value == runpath.value:
            continue
        new, old_len = value.encode("utf-8", "surrogateescape"), len(runpath.value.encode("utf-8", "surrogateescape"))
        if len(new) > old_len or runpath.shared:
            raise errors.RunpathCannotBeRewritten(
                path=path,
                kind=runpath.kind,
                old=runpath.value,
                new=value,
                reason=(
                    f"the new value is {len(new) - old_len} bytes longer than the old one, which is all the room"
                    " the file has for it"
                    if len(new) > old_len
                    else "its bytes are shared with another name in the file's string table"
                ),
            )
        data[runpath.offset : runpath.offset + old_len] = new + b"\0" * (old_len - len(new))
        changed = True
    if changed:
        replace_file(path, bytes(data))
    return changed


def replace_file(path: str, content: bytes) -> None:
    """Write a file by replacing it (new file, then rename): a file shared by hardlink with the
    cache, or read-only, is never written in place; its mode is kept."""
    mode = stat.S_IMODE(os.lstat(path).st_mode)
    tmp = f"{path}.launchpack-tmp"
    if os.path.lexists(tmp):  # left by a killed build: possibly a hardlink, never to be written through
        os.unlink(tmp)
    with open(tmp, "xb") as handle:
        handle.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def elf_files(root: str) -> Iterator[str]:
    """Regular files under root that are ELF files the dynamic linker may load: shared objects
    (named *.so or *.so.N, as the linker and Python's importer look for them) and executables.
    Symlinks are not followed. Only those are opened: an environment has thousands of .py files."""
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            candidate = ".so" in name or info.st_mode & 0o111
            if candidate and stat.S_ISREG(info.st_mode) and info.st_size >= 52 and is_elf(path):
                yield path


def _under(path: str, roots: Sequence[str]) -> bool:
    forms = {os.path.normpath(r) for r in roots} | {os.path.realpath(r) for r in roots}
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in forms)


def left_in_build_dirs(path: str, build_only: Sequence[str], travelling: Sequence[str] = ()) -> list[str]:
    """The RUNPATH/RPATH entries of an ELF file that point into a build-only directory.

    An $ORIGIN-relative entry moves with the file: it is only wrong when it leaves the
    directories that travel with it (travelling: the environment; Heroku's whole app dir)."""
    directory = os.path.dirname(os.path.abspath(path))
    found = []
    for runpath in read_runpaths(path):
        for entry in runpath.entries:
            target = resolve(entry, directory)
            relative = not entry.startswith("/")
            if _under(target, build_only) and not (relative and _under(target, travelling)):
                found.append(f"{runpath.kind} {entry}")
    return found


def relocate_environment(venv_dir: str, relocation: Relocation) -> int:
    """Rewrite every ELF file of an environment, then check that none still points into a
    build-only directory (a green build must mean a working app). Returns files changed."""
    changed = 0
    left = []
    for path in elf_files(venv_dir):
        try:
            if rewrite(path, relocation.moves, relocation.build_only):
                changed += 1
            remaining = left_in_build_dirs(path, relocation.build_only, [new for _old, new in relocation.moves])
        except NotElf:
            continue  # not a file the dynamic linker could load either
        if remaining:
            left.append(f"{os.path.relpath(path, venv_dir)}: {', '.join(remaining)}")
    if left:
        raise errors.RunpathIntoBuildDir(
            venv_dir=venv_dir, files="\n  ".join(left[:20]) + ("\n  ..." if len(left) > 20 else "")
        )
    return changed
