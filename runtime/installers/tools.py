"""The build's own tools (uv, pip, Poetry, Pipenv, pip-tools), kept in the cache, never in the app.

Each tool lives in its own directory under CACHE_DIR/launchpack/tools, named by tool, pinned
version and (for Python tools) the Python version it runs on. A directory is built under a
temporary name and renamed into place when complete, so a build killed while making one leaves
either a working tool or nothing (the leftover temporary directory is removed later).

uv's binary is fetched straight from its wheel on the package index (uv_wheel.py); failing
that, it is installed with the pip wheel the stack's Python ships for ensurepip, run straight
from the wheel (no venv with pip needed: that alone would cost seconds). The Python tools are
then installed by uv into venvs of their own.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Mapping

from runtime import envcache, errors, pythonenv
from runtime.installers import uv_wheel
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter

# Pinned so that a build is reproducible, and so the reuse key can name the installer's version
# without running it.
VERSIONS = {
    "uv": "0.13.9",
    "pip": "26.3",
    "poetry": "2.5.1",
    "pipenv": "2026.10.3",
    "pip-tools": "7.6.2",
}
# The module each Python tool runs as (`python -m MODULE`): console scripts would carry the
# absolute path of the temporary directory the tool was built in.
MODULES = {"pip": "pip", "poetry": "poetry", "pipenv": "pipenv", "pip-tools": "piptools"}
PIP_FLAGS = ["--disable-pip-version-check", "--no-input"]
# The stack's certificate store, for tools that otherwise trust only their own bundled list
# (Poetry and Pipenv use certifi, uv its built-in roots): a CA added to the stack (a company
# proxy, a private mirror) is then trusted by every installer alike.
CA_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")

_scratch: list[str] = []
# Each tool directory records a manifest of its files (envcache.tree_manifest) when it is made,
# and is checked against it before a build uses it: a truncated or overwritten uv binary would
# otherwise fail every later build ("Exec format error"), since a directory that exists is trusted.
MANIFEST = ".launchpack-manifest.json"
_checked: set[str] = set()  # tool directories already checked by this build


def label(tool: str) -> str:
    return f"{tool} {VERSIONS[tool]}"


def root(layout: Layout) -> str:
    """Where tools are kept: the cache, or (no cache) a scratch dir outside the app."""
    cached = layout.cache("launchpack", "tools")
    if cached:
        os.makedirs(cached, exist_ok=True)
        return cached
    return scratch()


def scratch(name: str = "") -> str:
    """A directory outside the app and the cache, removed when the build ends."""
    if not _scratch:
        _scratch.append(tempfile.mkdtemp(prefix="launchpack-tools-"))
        atexit.register(shutil.rmtree, _scratch[0], True)
    path = os.path.join(_scratch[0], name) if name else _scratch[0]
    os.makedirs(path, exist_ok=True)
    return path


def uv_cache(layout: Layout) -> str:
    return layout.cache("launchpack", "uv-cache") or os.path.join(root(layout), "uv-cache")


def wheelhouse(layout: Layout) -> str:
    """Wheels built from a package index's sdists (see uv.keep_built_wheels), one directory per
    stack and machine because such a wheel is linked against the stack's libraries."""
    base = layout.cache("launchpack", "wheels") or os.path.join(root(layout), "wheels")
    return os.path.join(base, f"{envcache.stack_id()}-{platform.machine()}")


def _remove_leftovers(directory: str) -> None:
    """Temporary directories of builds that were killed while making a tool."""
    for name in os.listdir(directory):
        if name.startswith(".tmp-"):
            shutil.rmtree(os.path.join(directory, name), ignore_errors=True)


def _record_manifest(directory: str) -> None:
    manifest = envcache.tree_manifest(directory, skip=(MANIFEST,))
    partial = os.path.join(directory, MANIFEST + ".partial")
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle)
    os.replace(partial, os.path.join(directory, MANIFEST))


def _in_pycache(name: str) -> bool:
    return "__pycache__/" in name


def tool_problem(directory: str, what: str) -> str | None:
    """Why the tool directory differs from the manifest it was made with, or None."""
    try:
        with open(os.path.join(directory, MANIFEST), encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        manifest = None
    return envcache.manifest_problem(directory, manifest, what, skip=(MANIFEST,), tolerate_added=_in_pycache)


def _usable(directory: str, what: str, out: Output, adopt=None) -> bool:
    """Whether the cached tool directory can be used as it is. One that differs from its manifest
    is removed, saying why, so the caller installs it again. adopt(): for a directory made before
    tools had manifests, whether it works (it then gets its manifest now)."""
    if directory in _checked:
        return True
    if not os.path.isdir(directory):
        return False
    problem = tool_problem(directory, what)
    legacy = problem is not None and not os.path.isfile(os.path.join(directory, MANIFEST))
    if legacy and adopt is not None and adopt():
        with contextlib.suppress(OSError):  # a read-only cache: checked again next time
            _record_manifest(directory)
        problem = None
    if problem:
        # A directory from before manifests is expected once after an upgrade, not a fault.
        (out.info if legacy else out.warn)(f"{problem}: installing it again")
        shutil.rmtree(directory, ignore_errors=True)
        return False
    _checked.add(directory)
    return True


def _publish(tmp: str, final: str) -> None:
    _record_manifest(tmp)
    try:
        os.rename(tmp, final)
    except OSError:  # another build made it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)


def bundled_pip_wheel() -> str | None:
    """The pip wheel the stack's Python carries for ensurepip (Debian keeps it apart)."""
    stdlib = sysconfig.get_paths()["stdlib"]
    patterns = (
        os.path.join(stdlib, "ensurepip", "_bundled", "pip-*.whl"),
        "/usr/share/python-wheels/pip-*.whl",
    )
    for pattern in patterns:
        found = sorted(glob.glob(pattern))
        if found:
            return found[-1]
    return None


def uv(layout: Layout, env: Mapping[str, str], out: Output) -> str:
    """The path of the pinned uv binary, installing it into the cache first if needed."""
    base = root(layout)
    final = os.path.join(base, f"uv-{VERSIONS['uv']}")
    binary = os.path.join(final, "bin", "uv")
    if _usable(final, f"the cached {label('uv')}", out, adopt=lambda: _reports_version(binary, VERSIONS["uv"])):
        if os.access(binary, os.X_OK):
            return binary
        out.warn(f"the cached {label('uv')}'s bin/uv is not executable: installing it again")
        shutil.rmtree(final, ignore_errors=True)
    _remove_leftovers(base)
    tmp = tempfile.mkdtemp(prefix=".tmp-uv-", dir=base)
    requirement = f"uv=={VERSIONS['uv']}"
    out.info(f"Installing {requirement} (the build's installer; kept in the cache, not in your app)")
    if uv_wheel.fetch_uv(VERSIONS["uv"], os.path.join(tmp, "uv"), env):
        _publish(os.path.join(tmp, "uv"), final)
        shutil.rmtree(tmp, ignore_errors=True)
        return binary
    wheel = bundled_pip_wheel()
    pip_env = {k: v for k, v in tool_environment(env).items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    if wheel:
        pip_env["PYTHONPATH"] = wheel
        pip = [sys.executable, "-m", "pip"]
    else:  # no bundled wheel: a throwaway venv with ensurepip's pip
        bootstrap = os.path.join(tmp, "bootstrap")
        subprocess.run([sys.executable, "-m", "venv", bootstrap], check=False, capture_output=True)
        pip = [pythonenv.python_of(bootstrap), "-m", "pip"]
    command = [
        *pip,
        *PIP_FLAGS,
        "install",
        "--quiet",
        "--no-cache-dir",
        "--target",
        os.path.join(tmp, "uv"),
        requirement,
    ]
    code, _ = out.stream(command, env=pip_env)
    if code != 0 or not os.access(os.path.join(tmp, "uv", "bin", "uv"), os.X_OK):
        shutil.rmtree(tmp, ignore_errors=True)
        raise errors.ToolInstallFailed(tool=requirement, command="pip install", code=code)
    _publish(os.path.join(tmp, "uv"), final)
    shutil.rmtree(tmp, ignore_errors=True)
    return binary


def _reports_version(binary: str, version: str) -> bool:
    try:
        completed = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode == 0 and completed.stdout.split()[1:2] == [version]


def tool_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The build's environment (config vars included) for an installer, trusting the stack's
    certificate store unless the app configured that itself."""
    result = dict(env)
    bundle = next((path for path in CA_BUNDLES if os.path.isfile(path)), None)
    if bundle:
        result.setdefault("REQUESTS_CA_BUNDLE", bundle)
        result.setdefault("SSL_CERT_FILE", bundle)
    result.setdefault("UV_SYSTEM_CERTS", "1")
    result.setdefault("PIP_ROOT_USER_ACTION", "ignore")
    return result


def uv_environment(layout: Layout, env: Mapping[str, str]) -> dict[str, str]:
    """The environment uv runs with: the build's (config vars included), plus where uv keeps
    its cache, and the index settings translated from pip's names (see indexes_for_uv)."""
    result = tool_environment(env)
    result.update(indexes_for_uv(env))
    result.update(
        {
            "UV_CACHE_DIR": uv_cache(layout),
            # Hardlinks from uv's cache (uv copies when the cache is on another filesystem): an
            # environment is thousands of files, and rewriting them is most of a rebuild's time.
            # Safe because nothing writes a file of the environment in place (see DirectoryStore)
            # and the slug is an archive of the app dir, not the app dir's inodes.
            "UV_LINK_MODE": "hardlink",
            "UV_NO_PROGRESS": "1",
            # launchpack decides the interpreter; uv must not fetch another one behind our back.
            "UV_PYTHON_DOWNLOADS": "never",
        }
    )
    return result


def indexes_for_uv(env: Mapping[str, str]) -> dict[str, str]:
    """uv does not read PIP_INDEX_URL / PIP_EXTRA_INDEX_URL; pass them on under uv's names
    unless the app set uv's own (which win)."""
    mapped = {}
    if env.get("PIP_INDEX_URL") and not (env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL")):
        mapped["UV_DEFAULT_INDEX"] = env["PIP_INDEX_URL"].strip()
    if env.get("PIP_EXTRA_INDEX_URL") and not (env.get("UV_INDEX") or env.get("UV_EXTRA_INDEX_URL")):
        mapped["UV_INDEX"] = " ".join(env["PIP_EXTRA_INDEX_URL"].split())
    if env.get("PIP_FIND_LINKS") and not env.get("UV_FIND_LINKS"):
        mapped["UV_FIND_LINKS"] = ",".join(env["PIP_FIND_LINKS"].split())
    return mapped


def python_tool(tool: str, interpreter: Interpreter, layout: Layout, env: Mapping[str, str], out: Output) -> str:
    """A venv (in the cache) running `tool` on the app's Python version; returns its path."""
    base = root(layout)
    final = os.path.join(base, f"{tool}-{VERSIONS[tool]}-py{interpreter.version_text}")
    if (
        os.path.isfile(os.path.join(final, ".complete"))
        and os.path.exists(os.path.realpath(pythonenv.python_of(final)))
        and _usable(final, f"the cached {label(tool)}", out)
    ):
        return final
    shutil.rmtree(final, ignore_errors=True)  # incomplete, changed, or its interpreter has gone
    uv_binary = uv(layout, env, out)
    _remove_leftovers(base)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{tool}-", dir=base)
    requirement = f"{tool}=={VERSIONS[tool]}"
    out.info(f"Installing {requirement} (a build tool; kept in the cache, not in your app)")
    pythonenv.create(interpreter, tmp, out)
    # Compiled now, so that the files the tool runs are in its manifest (Python would write them
    # on first use, unchecked).
    command = [
        uv_binary, "pip", "install", "--quiet", "--compile-bytecode", "--python", pythonenv.python_of(tmp), requirement
    ]  # fmt: skip
    code, _ = out.stream(command, env=uv_environment(layout, env))
    if code != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise errors.ToolInstallFailed(tool=requirement, command="uv pip install", code=code)
    with open(os.path.join(tmp, ".complete"), "w", encoding="utf-8") as handle:
        handle.write(requirement + "\n")
    _publish(tmp, final)
    return final


def module_command(tool_venv: str, tool: str) -> list[str]:
    return [pythonenv.python_of(tool_venv), "-m", MODULES[tool]]
