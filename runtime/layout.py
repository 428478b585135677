"""Where a build puts things, per platform. The core steps only ever ask the Layout.

Heroku builds in /tmp/build_* and runs the result at /app; CNB builds and runs at /workspace
with the environment in a layer; the local CLI keeps the environment outside the checkout.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass

RUNTIME_DIRNAME = ".launchpack-runtime"


@dataclass(frozen=True)
class Layout:
    app_dir: str  # where the app is while it is built
    runtime_dir: str  # generated runtime files: env.sh, python/, static/, launch.json
    venv_dir: str  # the app's Python environment
    cache_dir: str | None  # kept between builds
    # Where the app dir will be when the app runs, when that is not app_dir (Heroku: /app).
    run_app_dir: str | None = None
    # Paths relative to the app dir, so that env.sh works wherever the slug is unpacked.
    relative: bool = True
    # The platform gives every process the app's environment itself (CNB: layer env files and
    # exec.d), so generated commands do not source env.sh (see cnb() for why).
    env_from_platform: bool = False
    # The environment carries its own copy of the interpreter: a platform's run image need not
    # have the build image's Python (heroku-24's run image has none). Not needed locally.
    embed_python: bool = True
    # Ship the environment byte-compiled (a slug or image runs as another user, often read-only,
    # and should not compile at start). A local env compiles lazily into files its owner has.
    compile_bytecode: bool = True

    @property
    def python_dir(self) -> str:
        return os.path.join(self.runtime_dir, "python")

    @property
    def static_dir(self) -> str:
        return os.path.join(self.runtime_dir, "static")

    @property
    def env_script(self) -> str:
        return os.path.join(self.runtime_dir, "env.sh")

    @property
    def launch_file(self) -> str:
        return os.path.join(self.runtime_dir, "launch.json")

    def cache(self, *parts: str) -> str | None:
        return os.path.join(self.cache_dir, *parts) if self.cache_dir else None

    def shell_paths(self) -> dict[str, str]:
        """Shell expressions for env.sh's APP_DIR, RUNTIME_DIR and VENV_DIR."""
        if self.relative:
            # Procfile commands and .profile.d both run from the app dir.
            return {
                "APP_DIR": '"$PWD"',
                "RUNTIME_DIR": '"$LAUNCHPACK_APP_DIR/' + os.path.relpath(self.runtime_dir, self.app_dir) + '"',
                "VENV_DIR": '"$LAUNCHPACK_APP_DIR/' + os.path.relpath(self.venv_dir, self.app_dir) + '"',
            }
        return {
            "APP_DIR": shlex.quote(self.app_dir),
            "RUNTIME_DIR": shlex.quote(self.runtime_dir),
            "VENV_DIR": shlex.quote(self.venv_dir),
        }

    def env_prefix(self) -> str:
        """What a generated Procfile command starts with to get the app's environment."""
        if self.env_from_platform:
            return ""
        if self.relative:
            return ". ./" + os.path.relpath(self.env_script, self.app_dir) + " && "
        return ". " + shlex.quote(self.env_script) + " && "


def heroku(build_dir: str, cache_dir: str | None) -> Layout:
    runtime_dir = os.path.join(build_dir, RUNTIME_DIRNAME)
    return Layout(
        app_dir=build_dir,
        runtime_dir=runtime_dir,
        venv_dir=os.path.join(runtime_dir, "venv"),
        cache_dir=cache_dir,
        run_app_dir="/app",
    )


def local(app_dir: str, env_dir: str, cache_dir: str) -> Layout:
    """The `launchpack` command on a developer's machine: the app is built and run where it is,
    and everything the build makes lives in the project's env dir, outside the source tree (like
    warpdrive's project virtualenvs). env.sh and the Procfile use absolute paths, since the app
    never moves and env.sh is not inside it."""
    return Layout(
        app_dir=app_dir,
        runtime_dir=os.path.join(env_dir, "runtime"),
        venv_dir=os.path.join(env_dir, "venv"),
        cache_dir=cache_dir,
        relative=False,
        embed_python=False,
        compile_bytecode=False,
    )


# The CNB layers launchpack makes under $CNB_LAYERS_DIR (see runtime/adapters/cnb.py).
CNB_VENV_LAYER = "venv"
CNB_CACHE_LAYER = "cache"


def cnb(app_dir: str, layers_dir: str) -> Layout:
    """Cloud Native Buildpacks: the app is built and runs at the same path (/workspace) and the
    environment is a layer (<layers>/venv, whose bin/ the launcher puts on PATH), so paths are
    absolute and nothing is relocated. The tool and wheel cache is a cache-only layer.

    Generated commands are rendered without the `. ./.launchpack-runtime/env.sh && ` prefix
    (env_from_platform). The launcher gives every process the environment from the layers'
    env.launch/ and exec.d/, including commands a user runs with `launcher -- <command>` (no
    shell, no Procfile), so that environment has to be complete on its own. Sourcing env.sh as
    well would be redundant (WEB_CONCURRENCY computed twice per start) and would hide a gap in
    the layer environment from the tests, which start the generated processes: without the
    prefix, a missing variable fails them. env.sh is still written, for a shell in the container.
    """
    runtime_dir = os.path.join(app_dir, RUNTIME_DIRNAME)
    return Layout(
        app_dir=app_dir,
        runtime_dir=runtime_dir,
        venv_dir=os.path.join(layers_dir, CNB_VENV_LAYER),
        cache_dir=os.path.join(layers_dir, CNB_CACHE_LAYER),
        run_app_dir=None,
        relative=False,
        env_from_platform=True,
    )
