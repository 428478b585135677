"""A local stand-in for the python-build-standalone download host, for the managed-Python tests.

This machine cannot reach the public host, and no package registry it can reach ships a
python-build-standalone archive, so the archive is ASSEMBLED here from a CPython that is not
the stack's: pyenv's build of 3.12 under /root/.pyenv (part of this machine image; the build
and dyno users cannot read /root, so nothing may keep depending on it). It is laid out like a
python-build-standalone "install_only" archive (a top-level `python/` with bin/, lib/, include/),
made relocatable the way python-build-standalone builds are: the interpreter's RUNPATH becomes
$ORIGIN/../lib and the build prefix in text files becomes /install. The test suite, the test
modules and site-packages are left out to keep it small.

uv verifies every download against the sha256 it has built in for that version, which an
assembled archive cannot match, so the mirror also provides a downloads list (the format of uv's
download-metadata.json, used through UV_PYTHON_DOWNLOADS_JSON_URL) naming the archive with its
real sha256 under its usual python-build-standalone URL; UV_PYTHON_INSTALL_MIRROR then rewrites
that URL to this server.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import http.server
import json
import os
import platform
import re
import shutil
import subprocess
import tarfile
import threading
from dataclasses import dataclass

PBS_PREFIX = "https://github.com/astral-sh/python-build-standalone/releases/download"
BUILD_TAG = "20240107"
SOURCES = "/root/.pyenv/versions"


def find_source() -> tuple[str, tuple[int, int, int]] | None:
    """A pyenv CPython 3.12.x build (shared libpython), if this machine has one."""
    for path in sorted(glob.glob(os.path.join(SOURCES, "3.12.*")), reverse=True):
        match = re.match(r"^3\.12\.(\d+)$", os.path.basename(path))
        if match and os.path.isfile(os.path.join(path, "bin", "python3.12")):
            return path, (3, 12, int(match.group(1)))
    return None


def _patch_runpath(binary: str, old: str) -> None:
    """Point the ELF RUNPATH at $ORIGIN/../lib, in place (same string table slot, NUL padded)."""
    with open(binary, "rb") as handle:
        data = handle.read()
    old_b, new_b = old.encode(), b"$ORIGIN/../lib"
    assert len(new_b) <= len(old_b) and data.count(old_b + b"\0") >= 1, binary
    data = data.replace(old_b + b"\0", new_b + b"\0" * (len(old_b) - len(new_b) + 1))
    with open(binary, "wb") as handle:
        handle.write(data)


def assemble(work: str) -> tuple[str, str, tuple[int, int, int]]:
    """(archive path, file name, version) of an install_only-layout archive built from pyenv."""
    found = find_source()
    if not found:
        raise FileNotFoundError(f"no CPython 3.12 build under {SOURCES}")
    source, version = found
    root = os.path.join(work, "python")
    shutil.copytree(
        source,
        root,
        symlinks=True,
        ignore=shutil.ignore_patterns("test", "tests", "idle_test", "__pycache__", "site-packages", "*.a"),
    )
    os.makedirs(os.path.join(root, "lib", "python3.12", "site-packages"), exist_ok=True)
    _patch_runpath(os.path.join(root, "bin", "python3.12"), os.path.join(source, "lib"))
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            if source.encode() in data and b"\0" not in data[:4096]:  # text files only
                with open(path, "wb") as handle:
                    handle.write(data.replace(source.encode(), b"/install"))
    text = ".".join(map(str, version))
    name = f"cpython-{text}+{BUILD_TAG}-{platform.machine()}-unknown-linux-gnu-install_only.tar.gz"
    archive = os.path.join(work, name)
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(root, arcname="python")
    shutil.rmtree(root)
    return archive, name, version


@dataclass
class Mirror:
    root: str  # served directory: <BUILD_TAG>/<archive>
    downloads_json: str  # for UV_PYTHON_DOWNLOADS_JSON_URL
    version: tuple[int, int, int]
    url: str = ""
    server: http.server.ThreadingHTTPServer | None = None
    requests: list[str] | None = None

    def start(self) -> str:
        requests = self.requests = []

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the stdlib's name
                requests.append(self.path)

        handler = functools.partial(Handler, directory=self.root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.block_on_close = False  # do not wait for idle keep-alive clients on stop
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def make_mirror(work: str) -> Mirror:
    archive, name, version = assemble(work)
    served = os.path.join(work, "mirror", BUILD_TAG)
    os.makedirs(served)
    shutil.move(archive, os.path.join(served, name))
    with open(os.path.join(served, name), "rb") as handle:
        sha256 = hashlib.sha256(handle.read()).hexdigest()
    key = f"cpython-{'.'.join(map(str, version))}-linux-{platform.machine()}-gnu"
    entry = {
        "name": "cpython",
        "arch": {"family": platform.machine(), "variant": None},
        "os": "linux",
        "libc": "gnu",
        "major": version[0],
        "minor": version[1],
        "patch": version[2],
        "prerelease": "",
        "url": f"{PBS_PREFIX}/{BUILD_TAG}/{name.replace('+', '%2B')}",
        "sha256": sha256,
        "variant": None,
        "build": BUILD_TAG,
    }
    downloads = os.path.join(work, "downloads.json")
    with open(downloads, "w", encoding="utf-8") as handle:
        json.dump({key: entry}, handle)
    subprocess.run(["chmod", "-R", "a+rX", work], check=True)
    return Mirror(os.path.join(work, "mirror"), downloads, version)
