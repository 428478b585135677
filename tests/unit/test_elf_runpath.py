"""The RUNPATH rewriter (runtime/elf_runpath.py) on real ELF files compiled here with cc, and on
hand-made ELF32 / big-endian files (which this machine's compiler does not produce)."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys

import pytest

from runtime import elf_runpath, errors

CC = shutil.which("cc")
needs_cc = pytest.mark.skipif(not (CC and shutil.which("readelf")), reason="needs cc and readelf (binutils)")


def readelf_paths(path: str) -> dict[str, str]:
    shown = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in shown.splitlines():
        for kind in ("RUNPATH", "RPATH"):
            if f"({kind})" in line:
                found[kind] = line.split("[", 1)[1].rstrip("]")
    return found


def compile_so(source: str, target: str, *flags: str) -> str:
    c_file = target + ".c"
    with open(c_file, "w") as handle:
        handle.write(source)
    subprocess.run([CC, "-shared", "-fPIC", "-o", target, c_file, *flags], check=True, capture_output=True)
    os.unlink(c_file)
    return target


@pytest.fixture
def built(tmp_path):
    """A managed interpreter's lib dir in a "cache" (libdemo.so), an environment that carries a
    copy of it (venv/interpreter), and an extension in site-packages linked to libdemo with a
    RUNPATH into the cache, as mod_wsgi's build makes it."""
    cache = tmp_path / "cache"
    home = cache / "launchpack" / "python" / "cpython-3.12.1-linux-x86_64-gnu"
    (home / "lib").mkdir(parents=True)
    compile_so("int demo(void) { return 42; }\n", str(home / "lib" / "libdemo.so"))
    venv = tmp_path / "build" / ".launchpack-runtime" / "venv"
    package = venv / "lib" / "python3.12" / "site-packages" / "ext"
    package.mkdir(parents=True)
    shutil.copytree(home, venv / "interpreter", symlinks=True)
    return cache, home, venv, package


def ext_source() -> str:
    return "int demo(void);\nint answer(void) { return demo(); }\n"


def loads(path: str) -> subprocess.CompletedProcess:
    code = f"import ctypes; print(ctypes.CDLL({path!r}).answer())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def relocation(cache, home, venv) -> elf_runpath.Relocation:
    return elf_runpath.for_environment(
        str(venv), str(home), str(venv.parent.parent), str(cache), app_moves=True
    )


@needs_cc
@pytest.mark.parametrize("dtags", ["--enable-new-dtags", "--disable-new-dtags"], ids=["RUNPATH", "RPATH"])
def test_a_runpath_into_the_cache_points_at_the_environments_interpreter(built, dtags):
    cache, home, venv, package = built
    ext = compile_so(ext_source(), str(package / "ext.so"), f"-L{home}/lib", "-ldemo",
                     f"-Wl,-rpath,/usr/local/lib:{home}/lib", f"-Wl,{dtags}")  # fmt: skip
    kind = "RUNPATH" if dtags == "--enable-new-dtags" else "RPATH"
    assert readelf_paths(ext) == {kind: f"/usr/local/lib:{home}/lib"}
    shutil.rmtree(cache)  # as on a dyno
    assert "libdemo.so: cannot open shared object file" in loads(ext).stderr

    assert elf_runpath.relocate_environment(str(venv), relocation(cache, home, venv)) == 1

    assert readelf_paths(ext) == {kind: "/usr/local/lib:$ORIGIN/../../../../interpreter/lib"}
    result = loads(ext)
    assert result.returncode == 0 and result.stdout == "42\n", result.stderr
    # The environment can move (Heroku: /tmp/build_* -> /app): the path is relative to the file.
    moved = venv.parent.parent.parent / "app"
    shutil.move(str(venv.parent.parent), str(moved))
    assert loads(str(moved / ".launchpack-runtime" / "venv" / package.relative_to(venv) / "ext.so")).stdout == "42\n"


@needs_cc
def test_a_rewritten_file_is_replaced_not_written_through_a_hardlink(built, tmp_path):
    cache, home, venv, package = built
    ext = compile_so(ext_source(), str(package / "ext.so"), f"-L{home}/lib", "-ldemo", f"-Wl,-rpath,{home}/lib")
    cached = tmp_path / "cached-ext.so"
    os.link(ext, cached)
    os.chmod(ext, 0o555)
    elf_runpath.relocate_environment(str(venv), relocation(cache, home, venv))
    assert readelf_paths(str(cached)) == {"RUNPATH": f"{home}/lib"}  # the cache's copy is untouched
    assert readelf_paths(ext) == {"RUNPATH": "$ORIGIN/../../../../interpreter/lib"}
    assert os.stat(ext).st_mode & 0o777 == 0o555
    assert elf_runpath.relocate_environment(str(venv), relocation(cache, home, venv)) == 0  # idempotent


@needs_cc
def test_a_runpath_that_cannot_get_shorter_fails_the_build_naming_the_file(tmp_path):
    home = "/c"  # shorter than any $ORIGIN path to the environment's copy
    venv = tmp_path / "build" / "venv"
    package = venv / "lib" / "python3.12" / "site-packages" / "deeply" / "nested"
    package.mkdir(parents=True)
    ext = compile_so(ext_source(), str(package / "ext.so"), f"-Wl,-rpath,{home}/lib")
    before = open(ext, "rb").read()
    relocation = elf_runpath.for_environment(str(venv), home, str(tmp_path / "build"), str(tmp_path), True)
    with pytest.raises(errors.RunpathCannotBeRewritten) as raised:
        elf_runpath.relocate_environment(str(venv), relocation)
    message = "\n".join(raised.value.render())
    assert message.startswith(f"Could not point {ext} at the app's own copy of Python\n")
    assert f"Its RUNPATH is {home}/lib\n" in message
    assert "would have to become $ORIGIN/../../../../../interpreter/lib\n" in message
    assert "bytes longer than the old one" in message and "Install a prebuilt wheel" in message
    assert open(ext, "rb").read() == before


@needs_cc
def test_an_entry_into_the_cache_outside_the_interpreter_fails_the_build(built):
    cache, home, venv, package = built
    elsewhere = cache / "uv" / "lib"
    elsewhere.mkdir(parents=True)  # exists: it may be where a library is found today
    compile_so(ext_source(), str(package / "ext.so"), f"-Wl,-rpath,{elsewhere}")
    compile_so("int x;\n", str(venv / "lib" / "fine.so"), "-Wl,-rpath,/usr/lib/x86_64-linux-gnu")
    with pytest.raises(errors.RunpathIntoBuildDir) as raised:
        elf_runpath.relocate_environment(str(venv), relocation(cache, home, venv))
    message = "\n".join(raised.value.render())
    assert f"  lib/python3.12/site-packages/ext/ext.so: RUNPATH {elsewhere}" in message
    assert "fine.so" not in message


@needs_cc
def test_dead_entries_into_the_cache_are_dropped(built):
    """uv builds an sdist in a temporary environment in its cache, gone once the wheel is built:
    mod_wsgi records its lib/python3.X/config. The linker skips it today; it goes."""
    cache, home, venv, package = built
    gone = cache / "launchpack" / "uv-cache" / "builds-v0" / ".tmpKkxMXJ" / "lib" / "python3.12" / "config"
    ext = compile_so(ext_source(), str(package / "ext.so"), f"-L{home}/lib", "-ldemo",
                     f"-Wl,-rpath,{home}/lib:{gone}")  # fmt: skip
    only_dead = compile_so("int x;\n", str(package / "dead.so"), f"-Wl,-rpath,{gone}")
    assert elf_runpath.relocate_environment(str(venv), relocation(cache, home, venv)) == 2
    assert readelf_paths(ext) == {"RUNPATH": "$ORIGIN/../../../../interpreter/lib"}
    assert readelf_paths(only_dead) == {"RUNPATH": "$ORIGIN"}  # never an empty RUNPATH
    shutil.rmtree(cache)
    assert loads(ext).stdout == "42\n"


def test_files_that_are_not_dynamic_elf_files_are_left_alone(tmp_path):
    (tmp_path / "script.py").write_text("print('hi')\n")
    (tmp_path / "fake.so").write_bytes(b"\x7fELF" + b"\0" * 100)  # truncated nonsense
    (tmp_path / "plain.so").write_bytes(elf64(runpath=None))  # dynamic, with no RUNPATH
    assert elf_runpath.read_runpaths(str(tmp_path / "plain.so")) == []
    moves = ((str(tmp_path), str(tmp_path)),)
    assert elf_runpath.relocate_environment(str(tmp_path), elf_runpath.Relocation(moves, (str(tmp_path),))) == 0
    assert sorted(os.path.basename(p) for p in elf_runpath.elf_files(str(tmp_path))) == ["fake.so", "plain.so"]


# --- hand-made ELF files: each class and byte order ------------------------------------------


def elf64(runpath: bytes | None, order: str = "<", wide: bool = True, tag: int = 29, extra: bytes = b"") -> bytes:
    """A minimal ELF: the header, a PT_LOAD of the whole file, a PT_DYNAMIC and a string table
    (at address 0x10000 + its offset, so that the rewriter has to map the address)."""
    word = "Q" if wide else "I"
    ehsize, phentsize = (64, 56) if wide else (52, 32)
    strings = b"\0libc.so.6\0" + extra + (runpath + b"\0" if runpath else b"")
    dynamic_entries = [(1, 1), (5, None), (10, len(strings))]
    if runpath:
        dynamic_entries.append((tag, len(b"\0libc.so.6\0" + extra)))
    dynamic_entries.append((0, 0))
    dyn_size = len(dynamic_entries) * (16 if wide else 8)
    phoff = ehsize
    dyn_off = phoff + 2 * phentsize
    str_off = dyn_off + dyn_size
    total = str_off + len(strings)
    base = 0x10000
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if order == "<" else 2, 1]) + b"\0" * 9
    if wide:
        header = ident + struct.pack(order + "HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 64, 0, 0)
        phdrs = struct.pack(order + "IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)
        phdrs += struct.pack(order + "IIQQQQQQ", 2, 6, dyn_off, base + dyn_off, base + dyn_off, dyn_size, dyn_size, 8)
    else:
        header = ident + struct.pack(order + "HHIIIIIHHHHHH", 3, 3, 1, 0, phoff, 0, 0, ehsize, phentsize, 2, 40, 0, 0)
        phdrs = struct.pack(order + "IIIIIIII", 1, 0, base, base, total, total, 5, 0x1000)
        phdrs += struct.pack(order + "IIIIIIII", 2, dyn_off, base + dyn_off, base + dyn_off, dyn_size, dyn_size, 6, 4)
    fmt = order + ("q" if wide else "i") + word
    dynamic = b"".join(struct.pack(fmt, t, base + str_off if v is None else v) for t, v in dynamic_entries)
    data = header + phdrs + dynamic + strings
    assert len(data) == total
    return data


@pytest.mark.parametrize(
    "order,wide", [("<", True), (">", True), ("<", False), (">", False)], ids=["64LE", "64BE", "32LE", "32BE"]
)
def test_every_elf_class_and_byte_order(tmp_path, order, wide):
    old = b"/cache/launchpack/python/cpython-3.12.1-linux-x86_64-gnu/lib"
    path = tmp_path / "venv" / "bin" / "uwsgi"
    path.parent.mkdir(parents=True)
    path.write_bytes(elf64(old, order, wide))
    (found,) = elf_runpath.read_runpaths(str(path))
    assert (found.kind, found.value, found.shared) == ("RUNPATH", old.decode(), False)

    moves = (("/cache/launchpack/python/cpython-3.12.1-linux-x86_64-gnu", str(tmp_path / "venv" / "interpreter")),)
    assert elf_runpath.rewrite(str(path), moves)
    data = path.read_bytes()
    assert len(data) == len(elf64(old, order, wide))
    (found,) = elf_runpath.read_runpaths(str(path))
    assert found.value == "$ORIGIN/../interpreter/lib"
    assert data.endswith(b"$ORIGIN/../interpreter/lib" + b"\0" * (len(old) - 26 + 1))
    assert elf_runpath.left_in_build_dirs(str(path), ["/cache"]) == []


def test_rpath_tag_and_a_string_shared_with_another_name_is_refused(tmp_path):
    path = tmp_path / "lib.so"
    old = b"/cache/python/lib"
    # DT_NEEDED "lib" merged into the tail of the RPATH string, as a linker may do: the NEEDED
    # entry points at offset +14 of the path.
    data = bytearray(elf64(old, tag=15))
    needed_at = data.index(struct.pack("<qQ", 1, 1))
    data[needed_at : needed_at + 16] = struct.pack("<qQ", 1, 11 + len(old) - 3)
    path.write_bytes(bytes(data))
    (found,) = elf_runpath.read_runpaths(str(path))
    assert (found.kind, found.shared) == ("RPATH", True)
    with pytest.raises(errors.RunpathCannotBeRewritten, match="lib.so"):
        elf_runpath.rewrite(str(path), (("/cache/python", str(tmp_path / "i")),))
    assert path.read_bytes() == bytes(data)


def test_entries_outside_the_moved_directories_are_kept():
    moves = (("/cache/py", "/app/venv/interpreter"),)
    assert elf_runpath.relocated("$ORIGIN/../lib", "/app/venv/bin", moves) == "$ORIGIN/../lib"
    assert elf_runpath.relocated("/usr/lib", "/app/venv/bin", moves) == "/usr/lib"
    assert elf_runpath.relocated("/cache/python", "/app/venv/bin", moves) == "/cache/python"  # not /cache/py/
    assert elf_runpath.relocated("/cache/py/lib/", "/app/venv/bin", moves) == "$ORIGIN/../interpreter/lib"
    assert elf_runpath.relocated("/cache/py", "/app/venv/interpreter", moves) == "$ORIGIN"
    assert elf_runpath.resolve("${ORIGIN}/../lib", "/app/venv/bin") == "/app/venv/lib"
