"""The app's Python environment: created from the stack's interpreter, made relocatable.

A virtualenv normally only works where it was created: console scripts start with
``#!/tmp/build_x/.../bin/python``. Heroku builds in /tmp/build_* and runs at /app with the
build dir gone, so after every install we rewrite those shebangs into a form that finds the
interpreter next to the script (the same trampoline pip and uv use for long or relocatable
shebangs), and rewrite absolute build paths in .pth files (editable installs) to the run path.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from runtime import elf_runpath, errors
from runtime.output import Output
from runtime.python_version import Interpreter

# Valid as both sh and Python: sh runs the exec line, Python sees a string literal.
RELOCATABLE_SHEBANG = """#!/bin/sh
'''exec' "$(dirname -- "$(realpath -- "$0")")"/'{python}' "$0" "$@"
' '''
"""


# Where the interpreter is put inside the app's environment, so that it travels with it: a
# platform's run image need not have the build image's Python (heroku-24's run image has none).
EMBEDDED_INTERPRETER = "interpreter"
# Parts of a stack's standard library a server never uses: the static libpython for embedding
# (25 MB on Debian), Tk, IDLE, the test suite, and ensurepip's bundled wheels.
STDLIB_LEFT_OUT = ("config-*", "tkinter", "idlelib", "turtledemo", "test", "ensurepip", "__phello__")


def create(interpreter: Interpreter, venv_dir: str, out: Output, with_pip: bool = False, embed: bool = False) -> None:
    """A fresh virtual environment at venv_dir (replacing whatever is there).

    embed: for a uv-managed interpreter, copy the whole installation into the environment
    (venv_dir/interpreter) and build the venv on that copy, with relative symlinks, so the
    environment carries its own Python wherever the slug or layer goes.
    """
    if os.path.lexists(venv_dir):
        shutil.rmtree(venv_dir)
    python = interpreter.path
    embedded = None
    if embed:
        os.makedirs(venv_dir)
        embedded = os.path.join(venv_dir, EMBEDDED_INTERPRETER)
        if interpreter.managed_root:
            copied = subprocess.run(["cp", "-a", interpreter.managed_root, embedded], capture_output=True, text=True)
            if copied.returncode != 0:
                raise errors.VirtualenvFailed(
                    command=f"cp -a {interpreter.managed_root} {embedded}", code=copied.returncode
                )
            python = os.path.join(embedded, os.path.relpath(interpreter.path, interpreter.managed_root))
        else:
            python = embed_stack_interpreter(interpreter, embedded, out) or interpreter.path
    command = [python, "-m", "venv"] + ([] if with_pip else ["--without-pip"]) + [venv_dir]
    code, _ = out.stream(command)
    if code != 0:
        raise errors.VirtualenvFailed(command=" ".join(command), code=code)
    if embed:
        relative_symlinks(venv_dir)


def _links_libpython(binary: str) -> bool:
    """Whether an interpreter needs a shared libpython (which a copy could not find)."""
    try:
        listed = subprocess.run(["ldd", binary], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return True  # cannot tell: do not risk an interpreter that will not start
    return "libpython" in listed


def embed_stack_interpreter(interpreter: Interpreter, dest: str, out: Output) -> str | None:
    """Copy the stack's interpreter and standard library to dest (dest/bin, dest/lib/pythonX.Y);
    return the copy's executable, or None (with a warning) when it cannot be copied safely.

    CPython finds its standard library relative to its executable (the lib/pythonX.Y/os.py
    landmark), so a copy of a statically linked interpreter runs from anywhere. Its shared
    libraries (libc, libz, libexpat, libssl for the ssl module...) come from the run image,
    as they do for the platforms' own Python buildpacks.
    """
    real = os.path.realpath(interpreter.path)
    probe = subprocess.run(
        [real, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
        capture_output=True,
        text=True,
    )
    stdlib = probe.stdout.strip()
    if probe.returncode != 0 or not os.path.isfile(os.path.join(stdlib, "os.py")) or _links_libpython(real):
        out.warn(
            f"Could not copy the stack's Python {interpreter.version_text} into the app: the app will need\n"
            f"{interpreter.path} on the machine it runs on."
        )
        os.rmdir(dest) if os.path.isdir(dest) and not os.listdir(dest) else None
        return None
    name = f"python{interpreter.minor_text}"
    os.makedirs(os.path.join(dest, "bin"))
    shutil.copy2(real, os.path.join(dest, "bin", name))
    os.symlink(name, os.path.join(dest, "bin", "python3"))
    left_out = shutil.ignore_patterns(*STDLIB_LEFT_OUT)

    def ignore(directory: str, names: list[str]) -> set[str]:
        # Absolute symlinks point into the build image (Debian's sitecustomize.py -> /etc/...).
        outside = {n for n in names if os.path.islink(os.path.join(directory, n))
                   and os.path.isabs(os.readlink(os.path.join(directory, n)))}
        return set(left_out(directory, names)) | outside

    shutil.copytree(stdlib, os.path.join(dest, "lib", name), symlinks=True, ignore=ignore)
    return os.path.join(dest, "bin", name)


def relative_symlinks(venv_dir: str) -> None:
    """Symlinks pointing inside venv_dir become relative (bin/python -> ../interpreter/bin/...)."""
    root = os.path.abspath(venv_dir)
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                continue
            target = os.readlink(path)
            if os.path.isabs(target) and (target + os.sep).startswith(root + os.sep):
                os.unlink(path)
                os.symlink(os.path.relpath(target, directory), path)


def python_of(venv_dir: str) -> str:
    return os.path.join(venv_dir, "bin", "python")


# The names the app's processes start Python by: `python` (the generated commands, env.sh) and
# `python3` (user Procfiles, scripts); sys.executable is one of them, so a reloader (hupper,
# gunicorn --reload) re-runs it.
INTERPRETER_NAMES = ("python", "python3")


def interpreter_problem(venv_dir: str, embedded: bool | None = None, build_dir: str | None = None) -> str | None:
    """Why the environment's interpreter would not start where the app runs, or None.

    Each of bin/python and bin/python3 must exist and resolve to a file. With `embedded` (default:
    whether venv_dir/interpreter exists), it must resolve into the environment's own copy of the
    interpreter: the run image may have no Python of its own. With `build_dir` (where the app is
    built, if it runs elsewhere), no link on the way may name a path under it: the build dir is
    gone at run time, so such a link works during the build and dangles in the slug.
    """
    venv_dir = os.path.abspath(venv_dir)
    if embedded is None:
        embedded = os.path.isdir(os.path.join(venv_dir, EMBEDDED_INTERPRETER))
    own = os.path.join(venv_dir, EMBEDDED_INTERPRETER)
    for name in INTERPRETER_NAMES:
        path = os.path.join(venv_dir, "bin", name)
        shown = os.path.join("bin", name)
        if not os.path.lexists(path):
            return f"{shown} is missing"
        current, seen = path, 0
        while os.path.islink(current):
            target = os.readlink(current)
            if build_dir and os.path.isabs(target) and (target + os.sep).startswith(build_dir.rstrip("/") + os.sep):
                return f"{os.path.relpath(current, venv_dir)} links to {target}, a path of the build dir"
            current = os.path.normpath(os.path.join(os.path.dirname(current), target))
            seen += 1
            if seen > 40:
                return f"{shown} is a symlink loop"
        if not os.path.isfile(current):
            return f"{shown} leads to {current}, which does not exist"
        real = os.path.realpath(path)
        if embedded and not (real + os.sep).startswith(own + os.sep):
            return f"{shown} leads to {real}, not to the environment's own interpreter ({EMBEDDED_INTERPRETER}/)"
    return None


def check_interpreter(
    venv_dir: str, embedded: bool | None = None, build_dir: str | None = None, after: str = ""
) -> None:
    """interpreter_problem(), as the build failure it is (a green build must mean a working app)."""
    problem = interpreter_problem(venv_dir, embedded, build_dir)
    if problem:
        raise errors.EnvironmentInterpreterBroken(problem=problem, venv=venv_dir, after=after)


def venv_version(venv_dir: str) -> str | None:
    """The full Python version a venv was made with (from pyvenv.cfg), or None."""
    try:
        with open(os.path.join(venv_dir, "pyvenv.cfg"), encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition("=")
                if key.strip() in ("version", "version_info"):
                    return value.strip()
    except OSError:
        return None
    return None


def make_relocatable(
    venv_dir: str,
    old_app_dir: str | None = None,
    new_app_dir: str | None = None,
    libraries: elf_runpath.Relocation | None = None,
) -> int:
    """Rewrite absolute paths so the venv works after being moved. Returns files changed.

    libraries: for an environment that carries its interpreter, also point the RUNPATH of its
    compiled files at that copy and check that none looks into the build's directories."""
    changed = 0
    venv_dir = os.path.abspath(venv_dir)
    bin_dir = os.path.join(venv_dir, "bin")
    prefix = f"#!{bin_dir}/".encode()
    for name in sorted(os.listdir(bin_dir)) if os.path.isdir(bin_dir) else []:
        path = os.path.join(bin_dir, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            content = handle.read()
        if not content.startswith(prefix):
            continue
        first, _, rest = content.partition(b"\n")
        python = os.path.basename(first[2:].decode().strip())
        elf_runpath.replace_file(path, RELOCATABLE_SHEBANG.format(python=python).encode() + rest)
        changed += 1
    if old_app_dir and new_app_dir and old_app_dir != new_app_dir:
        changed += _rewrite_paths(venv_dir, old_app_dir, new_app_dir)
    if libraries is not None:
        changed += elf_runpath.relocate_environment(venv_dir, libraries)
    return changed


def _path_files(venv_dir: str) -> list[str]:
    """The files of a venv that record absolute paths: pyvenv.cfg, the activate scripts, and in
    site-packages the .pth files and editable finders (top level) and direct_url.json records.
    Listed directly rather than by walking the whole environment, which is thousands of files."""
    found = [os.path.join(venv_dir, "pyvenv.cfg")]
    bin_dir = os.path.join(venv_dir, "bin")
    if os.path.isdir(bin_dir):
        found.extend(os.path.join(bin_dir, n) for n in os.listdir(bin_dir) if n.startswith("activate"))
    lib = os.path.join(venv_dir, "lib")
    for pyver in os.listdir(lib) if os.path.isdir(lib) else []:
        site = os.path.join(lib, pyver, "site-packages")
        for entry in os.listdir(site) if os.path.isdir(site) else []:
            path = os.path.join(site, entry)
            if entry.endswith(".pth") or entry.startswith("__editable__"):
                found.append(path)
            elif entry.endswith(".dist-info"):
                found.append(os.path.join(path, "direct_url.json"))
    return [path for path in found if os.path.isfile(path) and not os.path.islink(path)]


def _rewrite_paths(venv_dir: str, old: str, new: str) -> int:
    """Point .pth files (editable installs, e.g. `-e .`), editable finders, activate scripts and
    pyvenv.cfg at the run location."""
    changed = 0
    old_b, new_b = old.rstrip("/").encode(), new.rstrip("/").encode()
    for path in _path_files(venv_dir):
        with open(path, "rb") as handle:
            content = handle.read()
        if old_b in content:
            elf_runpath.replace_file(path, content.replace(old_b, new_b))
            changed += 1
    return changed


def installed(venv_dir: str, distribution: str) -> bool:
    """Whether a distribution is installed in the venv (by its .dist-info directory)."""
    wanted = distribution.lower().replace("-", "_")
    lib = os.path.join(venv_dir, "lib")
    for pyver in os.listdir(lib) if os.path.isdir(lib) else []:
        site = os.path.join(lib, pyver, "site-packages")
        for entry in os.listdir(site) if os.path.isdir(site) else []:
            if entry.endswith(".dist-info") and entry.split("-")[0].lower().replace(".", "_") == wanted:
                return True
    return False


def run_python(venv_dir: str, args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([python_of(venv_dir), *args], **kwargs)
