"""A Python the stack does not have, downloaded by uv (python-build-standalone builds).

uv installs it into the cache (CACHE_DIR/launchpack/python), so it is downloaded once; the
build then copies the installation into the app's environment (pythonenv.create(embed=True)),
so the slug or layer carries its own interpreter. The download location follows uv's own
settings, which reach uv as config vars: UV_PYTHON_INSTALL_MIRROR (a mirror of the
python-build-standalone releases) and UV_PYTHON_DOWNLOADS_JSON_URL (a custom list of builds).
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping

from runtime import errors, python_version
from runtime.installers import tools
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter, PythonRequest


def install_dir(layout: Layout) -> str:
    return layout.cache("launchpack", "python") or os.path.join(tools.root(layout), "python")


def _uv_env(layout: Layout, env: Mapping[str, str]) -> dict[str, str]:
    result = tools.uv_environment(layout, env)
    result["UV_PYTHON_INSTALL_DIR"] = install_dir(layout)
    result["UV_PYTHON_DOWNLOADS"] = "manual"  # `uv python install` may download; nothing else may
    return result


def downloadable_versions(layout: Layout, env: Mapping[str, str], out: Output) -> list[tuple[int, int, int]]:
    """CPython versions uv can download for this machine (from the list built into uv, or the
    one UV_PYTHON_DOWNLOADS_JSON_URL names): no network needed."""
    binary = tools.uv(layout, env, out)
    command = [binary, "python", "list", "--only-downloads", "--all-versions", "--output-format", "json", "--no-config"]
    code, output = out.stream(command, env=_uv_env(layout, env), show=False, cwd=install_dir_parent(layout))
    if code != 0:
        return []
    try:
        entries = json.loads(output[output.index("[") :])
    except ValueError:
        return []
    arch = platform.machine()
    found = set()
    for entry in entries:
        parts = entry.get("version_parts") or {}
        if (
            entry.get("implementation") == "cpython"
            and entry.get("variant", "default") == "default"
            and entry.get("arch") in (arch, {"x86_64": "x86_64", "aarch64": "aarch64"}.get(arch))
            and entry.get("os") == "linux"
            and re.fullmatch(r"\d+\.\d+\.\d+", str(entry.get("version", "")))  # no pre-releases
        ):
            found.add((int(parts.get("major", 0)), int(parts.get("minor", 0)), int(parts.get("patch", 0))))
    return sorted(found)


def install_dir_parent(layout: Layout) -> str:
    """Run uv from a directory with no project files, so it reads no .python-version of the app."""
    path = install_dir(layout)
    os.makedirs(path, exist_ok=True)
    return path


def provide(
    request: PythonRequest, stack: list[Interpreter], layout: Layout, env: Mapping[str, str], out: Output
) -> Interpreter:
    """Download (or reuse from the cache) the newest uv-managed CPython matching the request."""
    versions = [v for v in downloadable_versions(layout, env, out) if python_version.matches(request, v)]
    if not versions:
        known = downloadable_versions(layout, env, out)
        newest: dict[tuple[int, int], tuple[int, int, int]] = {}
        for version in known:
            newest[version[:2]] = max(version, newest.get(version[:2], version))  # type: ignore[index]
        offered = python_version.offered([i.version for i in stack] + list(newest.values()))
        raise errors.UnknownPythonVersion(
            requested=request.version,
            source=request.source,
            available=", ".join(offered) + " (or any older patch release uv lists)",
            default_hint=", or a major.minor such as 3.12 for its newest patch release",
        )
    wanted = ".".join(map(str, max(versions)))
    out.info(
        f"Python {wanted} is not on the stack: using uv's managed CPython (python-build-standalone),"
        " downloaded once into the build cache and copied into the app's environment."
    )
    binary = tools.uv(layout, env, out)
    uv_env = _uv_env(layout, env)
    cwd = install_dir_parent(layout)
    code, _ = out.stream(
        [binary, "python", "install", "--no-bin", "--no-registry", "--no-config", wanted], env=uv_env, cwd=cwd
    )
    if code != 0:
        raise errors.ManagedPythonFailed(
            version=wanted, code=code, stack=", ".join(i.version_text for i in stack) or "none"
        )
    command = [binary, "python", "find", "--managed-python", "--no-project", "--no-config", wanted]
    code, found = out.stream(command, env=uv_env, cwd=cwd, show=False)
    path = found.strip().splitlines()[-1] if code == 0 and found.strip() else ""
    version = python_version.probe_version(path) if path else None
    if not version:
        raise errors.ManagedPythonFailed(version=wanted, code=code, stack=", ".join(i.version_text for i in stack))
    real = os.path.realpath(path)
    root = os.path.dirname(os.path.dirname(real))  # <install>/cpython-X.Y.Z-.../bin/pythonX.Y
    return Interpreter(real, version, managed_root=root)
