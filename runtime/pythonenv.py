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

from runtime import errors
from runtime.output import Output
from runtime.python_version import Interpreter

# Valid as both sh and Python: sh runs the exec line, Python sees a string literal.
RELOCATABLE_SHEBANG = """#!/bin/sh
'''exec' "$(dirname -- "$(realpath -- "$0")")"/'{python}' "$0" "$@"
' '''
"""


def create(interpreter: Interpreter, venv_dir: str, out: Output, with_pip: bool = False) -> None:
    """A fresh virtual environment at venv_dir (replacing whatever is there)."""
    if os.path.lexists(venv_dir):
        shutil.rmtree(venv_dir)
    command = [interpreter.path, "-m", "venv"] + ([] if with_pip else ["--without-pip"]) + [venv_dir]
    code, _ = out.stream(command)
    if code != 0:
        raise errors.VirtualenvFailed(command=" ".join(command), code=code)


def python_of(venv_dir: str) -> str:
    return os.path.join(venv_dir, "bin", "python")


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


def make_relocatable(venv_dir: str, old_app_dir: str | None = None, new_app_dir: str | None = None) -> int:
    """Rewrite absolute paths so the venv works after being moved. Returns files changed."""
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
        with open(path, "wb") as handle:
            handle.write(RELOCATABLE_SHEBANG.format(python=python).encode() + rest)
        changed += 1
    if old_app_dir and new_app_dir and old_app_dir != new_app_dir:
        changed += _rewrite_paths(venv_dir, old_app_dir, new_app_dir)
    return changed


def _rewrite_paths(venv_dir: str, old: str, new: str) -> int:
    """Point .pth files (editable installs, e.g. `-e .`), activate scripts and pyvenv.cfg at the
    run location."""
    changed = 0
    old_b, new_b = old.rstrip("/").encode(), new.rstrip("/").encode()
    for root, _dirs, files in os.walk(venv_dir):
        for name in files:
            if not (name.endswith(".pth") or name.startswith("activate") or name in ("pyvenv.cfg", "direct_url.json")):
                continue
            path = os.path.join(root, name)
            with open(path, "rb") as handle:
                content = handle.read()
            if old_b in content:
                with open(path, "wb") as handle:
                    handle.write(content.replace(old_b, new_b))
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
