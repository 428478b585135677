"""Cloud Native Buildpack layers: `<layer>.toml`, layer env files, exec.d, launch.toml.

A layer is a directory under $CNB_LAYERS_DIR plus a `<layer>.toml` whose [types] say what the
lifecycle does with it (Buildpack API 0.10):

    launch  the directory becomes a layer of the app image
    cache   the directory is kept for the next build and restored before it
    build   the layer's env and bin/ are visible to later buildpacks in this build

Before a rebuild the lifecycle restores `<layer>.toml` *without* [types] (only [metadata]),
so a buildpack must write the types again on every build or the layer is dropped.

Rendering (env files, launch.toml, digests) is pure; Layer's methods do the file system work.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime import tomlfile

# Layer names the lifecycle reserves for its own files.
RESERVED = frozenset({"build", "launch", "store"})

# Env file suffixes (Buildpack API >= 0.5): no suffix = override.
ACTIONS = ("override", "default", "prepend", "append")


@dataclass(frozen=True)
class Types:
    launch: bool = False
    build: bool = False
    cache: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {"launch": self.launch, "build": self.build, "cache": self.cache}


@dataclass(frozen=True)
class EnvVar:
    """One runtime environment change: how (an ACTIONS suffix) and the value, verbatim."""

    action: str
    value: str
    delim: str | None = None  # for prepend/append: the lifecycle adds no separator unless told

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown env file action {self.action!r}")


def env_files(variables: Mapping[str, EnvVar], directory: str = "env.launch") -> dict[str, str]:
    """The files (path relative to the layer -> contents) that make these env changes.

    Contents are written verbatim: the lifecycle neither trims nor evaluates them, so no
    trailing newline.
    """
    files = {}
    for name, var in sorted(variables.items()):
        files[f"{directory}/{name}.{var.action}"] = var.value
        if var.delim is not None and var.action in ("prepend", "append"):
            files[f"{directory}/{name}.delim"] = var.delim
    return files


def digest(files: Mapping[str, str], modes: Mapping[str, int] | None = None) -> str:
    """A digest of a layer's intended contents: decides whether a launch-only layer changed."""
    sha = hashlib.sha256()
    for path in sorted(files):
        mode = (modes or {}).get(path, 0o644)
        sha.update(f"{path}\0{mode:o}\0".encode() + files[path].encode() + b"\0")
    return sha.hexdigest()


def launch_toml(processes: list[dict[str, Any]]) -> str:
    return tomlfile.dumps({"processes": processes})


@dataclass(frozen=True)
class Target:
    """What the image is built for (CNB_TARGET_*, Buildpack API >= 0.10)."""

    os: str
    arch: str
    distro_name: str = ""
    distro_version: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Target:
        return cls(
            os=environ.get("CNB_TARGET_OS", ""),
            arch=environ.get("CNB_TARGET_ARCH", ""),
            distro_name=environ.get("CNB_TARGET_DISTRO_NAME", ""),
            distro_version=environ.get("CNB_TARGET_DISTRO_VERSION", ""),
        )

    def as_dict(self) -> dict[str, str]:
        return {
            "os": self.os,
            "arch": self.arch,
            "distro_name": self.distro_name,
            "distro_version": self.distro_version,
        }

    def describe(self) -> str:
        distro = f" {self.distro_name} {self.distro_version}".rstrip() if self.distro_name else ""
        return f"{self.os or '?'}/{self.arch or '?'}{distro}"


class Layer:
    def __init__(self, layers_dir: str, name: str):
        if name in RESERVED or "/" in name or name.startswith("."):
            raise ValueError(f"invalid layer name {name!r}")
        self.name = name
        self.path = os.path.join(layers_dir, name)
        self.toml_path = self.path + ".toml"

    def restored_metadata(self) -> dict[str, Any] | None:
        """The [metadata] the lifecycle restored for this layer, or None if it restored none."""
        try:
            data = tomlfile.load(self.toml_path)
        except (OSError, tomlfile.TOMLError):
            return None
        metadata = data.get("metadata")
        return metadata if isinstance(metadata, dict) else {}

    def write_toml(self, types: Types, metadata: Mapping[str, Any]) -> None:
        with open(self.toml_path, "w", encoding="utf-8") as handle:
            handle.write(tomlfile.dumps({"types": types.as_dict(), "metadata": dict(metadata)}))

    def clear(self) -> None:
        """Remove the directory (restored contents that must not be reused)."""
        if os.path.lexists(self.path):
            shutil.rmtree(self.path)

    def write_files(self, files: Mapping[str, str], executable: frozenset[str] = frozenset()) -> None:
        for relpath, content in files.items():
            target = os.path.join(self.path, relpath)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(content)
            os.chmod(target, 0o755 if relpath in executable else 0o644)
