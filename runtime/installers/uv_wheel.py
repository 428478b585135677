"""Fetching uv's binary straight from its wheel on the package index.

Installing uv with pip costs seconds (starting pip, resolving, unpacking) for what is one
executable inside a zip file: the index's simple API (PEP 691 JSON) names the wheel for this
platform with its sha256, so we download it, check the hash and extract `uv`. Anything unusual
(an index URL with credentials, no JSON simple API, no wheel for this platform, a hash
mismatch) returns None, and the caller installs uv with pip instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping

DEFAULT_INDEX = "https://pypi.org/simple"
JSON_SIMPLE = "application/vnd.pypi.simple.v1+json"
# manylinux wheel tags for the machines the stacks run on.
ARCH_TAGS = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
TIMEOUT = 60


def index_url(env: Mapping[str, str]) -> str:
    """The index the app's config points installers at (uv's names first, then pip's)."""
    for name in ("UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_INDEX_URL"):
        value = (env.get(name) or "").strip()
        if value:
            return value.rstrip("/")
    return DEFAULT_INDEX


def choose_wheel(files: list[dict], version: str, machine: str) -> dict | None:
    """The glibc manylinux wheel of uv `version` for this CPU, from a PEP 691 file list."""
    arch = ARCH_TAGS.get(machine.lower())
    if not arch:
        return None
    for entry in files:
        name = entry.get("filename", "")
        if (
            name.startswith(f"uv-{version}-")
            and name.endswith(".whl")
            and "manylinux" in name
            and f"_{arch}" in name
            and "musllinux" not in name
            and entry.get("hashes", {}).get("sha256")
        ):
            return entry
    return None


def fetch_uv(version: str, destination: str, env: Mapping[str, str]) -> str | None:
    """Put uv's binary at destination/bin/uv; return its path, or None to fall back to pip."""
    index = index_url(env)
    parsed = urllib.parse.urlsplit(index)
    if parsed.scheme not in ("http", "https") or parsed.username or parsed.password:
        return None
    try:
        request = urllib.request.Request(f"{index}/uv/", headers={"Accept": JSON_SIMPLE})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            if JSON_SIMPLE not in response.headers.get("Content-Type", ""):
                return None
            listing = json.load(response)
        wheel = choose_wheel(listing.get("files", []), version, platform.machine())
        if not wheel:
            return None
        url = urllib.parse.urljoin(f"{index}/uv/", wheel["url"])
        digest = hashlib.sha256()
        with tempfile.TemporaryFile() as archive:
            with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    archive.write(chunk)
            if digest.hexdigest() != wheel["hashes"]["sha256"]:
                return None
            archive.seek(0)
            with zipfile.ZipFile(archive) as wheel_zip:
                member = f"uv-{version}.data/scripts/uv"
                target = os.path.join(destination, "bin", "uv")
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with wheel_zip.open(member) as source, open(target, "wb") as handle:
                    shutil.copyfileobj(source, handle)
        os.chmod(target, 0o755)
        return target
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # network, HTTP, JSON, zip: use pip instead
        return None
