"""Cloud Native Buildpacks (Buildpack API 0.10): bin/detect and bin/build.

    bin/detect [PLATFORM_DIR PLAN_PATH]          cwd = the app; exit 0 (Python app) or 100 (not)
    bin/build [LAYERS_DIR PLATFORM_DIR PLAN_PATH] cwd = the app (/workspace); inputs in CNB_* vars

The build is the same core pipeline as Heroku's bin/compile; only where things go differs.
Layers under $CNB_LAYERS_DIR:

    venv         launch + cache   the app's virtualenv (the layer directory *is* the venv, so
                                  the launcher puts its bin/ on PATH). Cached because rebuilding
                                  it is what makes builds slow; reused when the reuse key
                                  (envcache.reuse_key) and the target are unchanged.
    cache        cache            the Layout's cache_dir: pip's tools env and the wheelhouse.
                                  Never in the image.
    runtime-env  launch           env.launch/ files and exec.d/: the app's runtime environment
                                  (what env.sh does on Heroku). Launch-only: when its contents
                                  are unchanged we keep its .toml and create no directory, and
                                  the exporter reuses the previous image's layer.

Processes go to launch.toml, rendered from the same process types the Procfile is made of.
"""

from __future__ import annotations

import os
import pwd
import shlex
import sys
import time
from collections.abc import Mapping
from typing import Any

import procfile_gen
from runtime import appinfo, config, layout, pipeline
from runtime.layers import EnvVar, Layer, Target, Types, digest, env_files, launch_toml
from runtime.output import Output

CACHE_FORMAT = "1"  # bump when the cache layer's contents change shape
RUNTIME_LAYER = "runtime-env"
RUNTIME_FORMAT = "1"
EXECD_NAME = "launchpack-concurrency"
# Variables the lifecycle fills from layer directories; a user's value for these is prepended.
LAYER_PATH_VARS = ("PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "PKG_CONFIG_PATH")
NOT_DETECTED = 100


def is_cnb(environ: Mapping[str, str]) -> bool:
    """Whether bin/detect runs under the CNB lifecycle (which sets these) rather than Heroku."""
    return any(environ.get(name) for name in ("CNB_BUILD_PLAN_PATH", "CNB_BUILDPACK_DIR", "CNB_PLATFORM_DIR"))


# --- detect --------------------------------------------------------------------------------


def detect(app_dir: str) -> int:
    """Exit 0 for a Python app, 100 otherwise: under CNB any other status is an *error*.

    No build plan is written. launchpack needs nothing from other buildpacks and offers them
    nothing at build time (its layers are not build layers), and an empty plan is always
    consistent; providing e.g. "python" would promise later buildpacks a Python we do not give.
    """
    found = appinfo.markers_present(app_dir)
    if found:
        print("launchpack: Python app (found " + ", ".join(found) + ")")
        return 0
    Output(sys.stderr).error(appinfo.not_a_python_app(app_dir).render())
    return NOT_DETECTED


# --- the build's inputs ----------------------------------------------------------------------


def read_env_files(env_dir: str, names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        try:
            with open(os.path.join(env_dir, name), encoding="utf-8", errors="surrogateescape") as handle:
                values[name] = handle.read()
        except OSError:
            continue
    return values


def without_denied_exports(environ: Mapping[str, str], exported: Mapping[str, str], home: str) -> dict[str, str]:
    """The build's environment minus the deny-listed config vars the lifecycle exported.

    Unless a buildpack sets clear-env, the lifecycle exports $CNB_PLATFORM_DIR/env/* into
    bin/build's environment: layer path variables (PATH, ...) prepended, others overriding.
    The classic adapter never exports the deny-listed ones (runtime/config.py), so we undo it.
    """
    env = dict(environ)
    for name, value in exported.items():
        current = env.get(name)
        if current is None:
            continue
        if name in LAYER_PATH_VARS:
            if current == value:
                del env[name]
            elif current.startswith(value + os.pathsep):
                env[name] = current[len(value) + 1 :]
        elif current == value:
            if name == "HOME":
                env[name] = home  # tools need a HOME: the build user's own
            else:
                del env[name]
    return env


# --- layers ------------------------------------------------------------------------------


def _describe(target: Any) -> str:
    if isinstance(target, dict):
        try:
            return Target(**target).describe()
        except TypeError:
            pass
    return "an unknown target"


class LayerStore:
    """The app's environment kept as the `venv` layer (an envcache.EnvStore).

    The lifecycle restores the layer's [metadata] and, because it is a cache layer, its
    contents, but only when the previous image still has the same layer. The reuse decision
    itself is the pipeline's (envcache.reasons_to_rebuild); this store adds the target.
    """

    def __init__(self, layer: Layer, target: Target, out: Output):
        self.layer, self.target, self.out = layer, target, out
        self.key: dict[str, str] | None = None

    def load(self, venv_dir: str) -> dict[str, str] | None:
        metadata = self.layer.restored_metadata() or {}
        key = metadata.get("env")
        if not isinstance(key, dict) or not os.path.isfile(os.path.join(venv_dir, "pyvenv.cfg")):
            self.layer.clear()
            return None
        if metadata.get("target") != self.target.as_dict():
            self.out.header(
                f"Not reusing the cached Python environment: it was built for {_describe(metadata.get('target'))},"
                f" this build targets {self.target.describe()}"
            )
            self.layer.clear()
            return None
        self.key = dict(key)  # as written: TOML keeps strings, numbers, booleans and lists as they were
        return self.key

    def save(self, venv_dir: str, key: dict[str, str]) -> None:
        self.key = dict(key)
        self.write_toml()

    def write_toml(self) -> None:
        """On every build, reused or not: the lifecycle does not restore [types]."""
        if self.key is None:
            raise AssertionError("the pipeline neither reused nor saved the environment")
        self.layer.write_toml(Types(launch=True, cache=True), {"env": self.key, "target": self.target.as_dict()})


def prepare_cache_layer(layer: Layer, target: Target, out: Output) -> None:
    """The tool and wheel cache: kept unless it was made for another target."""
    metadata = layer.restored_metadata()
    if metadata is None:
        layer.clear()  # contents without metadata are not ours to trust
    elif metadata.get("target") != target.as_dict():
        out.header(
            f"Clearing the tool and wheel cache: it was made for {_describe(metadata.get('target'))},"
            f" this build targets {target.describe()}"
        )
        layer.clear()
    elif metadata.get("format") != CACHE_FORMAT:
        out.header("Clearing the tool and wheel cache: launchpack changed how it is laid out")
        layer.clear()
    os.makedirs(layer.path, exist_ok=True)
    layer.write_toml(Types(cache=True), {"format": CACHE_FORMAT, "target": target.as_dict()})


def runtime_env(where: layout.Layout, exports: Mapping[str, str]) -> dict[str, EnvVar]:
    """What runtime/slug/env.sh sets up, as layer env files (tests check the two agree).

    The user's runtime values win where env.sh lets them win (.default); PYTHONPATH is
    prepended to, so a PYTHONPATH given to the container is kept after ours.
    """
    env = {
        "LAUNCHPACK_APP_DIR": EnvVar("override", where.app_dir),
        "LAUNCHPACK_RUNTIME_DIR": EnvVar("override", where.runtime_dir),
        "VIRTUAL_ENV": EnvVar("override", where.venv_dir),
        "PYTHONPATH": EnvVar("prepend", where.app_dir + os.pathsep + where.python_dir, delim=os.pathsep),
        "PYTHONUNBUFFERED": EnvVar("override", "1"),
        "LANG": EnvVar("default", "C.UTF-8"),
        # Nothing sets PORT under CNB unless the user does (docker run -e PORT=...).
        "PORT": EnvVar("default", "8080"),
        # The platform's router is the only client that can reach the app: trust its X-Forwarded-*.
        "FORWARDED_ALLOW_IPS": EnvVar("default", "*"),
    }
    env.update({name: EnvVar("override", value) for name, value in exports.items()})
    return env


def execd_script(where: layout.Layout) -> str:
    """exec.d program: WEB_CONCURRENCY and LAUNCHPACK_THREADS from the container's cgroup
    limits, computed when the container starts (the build cannot know them), as TOML on fd 3."""
    python = shlex.quote(os.path.join(where.venv_dir, "bin", "python"))
    module = shlex.quote(os.path.join(where.python_dir, "launchpack_env.py"))
    return (
        "#!/bin/sh\n"
        "# Generated by launchpack: start-time concurrency defaults (see launchpack_env.py).\n"
        f"exec {python} -I {module} execd\n"
    )


def runtime_layer_files(where: layout.Layout, exports: Mapping[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """(files relative to the layer -> contents, the executable ones)."""
    files = env_files(runtime_env(where, exports))
    execd = f"exec.d/{EXECD_NAME}"
    files[execd] = execd_script(where)
    return files, frozenset({execd})


def write_runtime_layer(layer: Layer, files: dict[str, str], executable: frozenset[str], out: Output) -> bool:
    """Write the launch-only layer, or keep the previous image's when unchanged. True if reused."""
    modes = {path: 0o755 for path in executable}
    wanted = digest(files, modes)
    previous = layer.restored_metadata()
    layer.clear()  # launch-only contents are never restored; anything here is stale
    metadata = {"format": RUNTIME_FORMAT, "digest": wanted}
    if previous and previous.get("digest") == wanted and previous.get("format") == RUNTIME_FORMAT:
        # No directory + a .toml with launch = true: the exporter reuses the previous image's layer.
        out.header(f"Reusing the launch environment layer ({RUNTIME_LAYER}): unchanged")
    else:
        reason = "there is no previous one" if not previous else "its contents changed"
        out.header(f"Writing the launch environment layer ({RUNTIME_LAYER}): {reason}")
        layer.write_files(files, executable)
    layer.write_toml(Types(launch=True), metadata)
    return bool(previous and previous.get("digest") == wanted)


# --- processes ---------------------------------------------------------------------------


def launch_processes(
    generated: list[procfile_gen.ProcessType], procfile: procfile_gen.Procfile | None
) -> list[dict[str, Any]]:
    """launch.toml [[processes]]: the user's Procfile entries win, ours fill in the rest.

    Procfile commands are shell (they expand $PORT, $WEB_CONCURRENCY), and Buildpack API 0.9+
    has no shell processes, so each runs as ["bash", "-c", command], as heroku/procfile does.
    web is the default process (what a plain `docker run` starts); release is not.
    """
    commands: dict[str, str] = dict(procfile.as_dict()) if procfile else {}
    for process in generated:
        commands.setdefault(process.name, process.command)
    order = sorted(commands, key=lambda name: (name != "web", name == "release"))
    return [{"type": name, "command": ["bash", "-c", commands[name]], "default": name == "web"} for name in order]


# --- build -------------------------------------------------------------------------------


def build(app_dir: str, layers_dir: str, platform_dir: str | None) -> int:
    started = time.monotonic()
    out = Output(sys.stdout)
    app_dir, layers_dir = os.path.abspath(app_dir), os.path.abspath(layers_dir)
    target = Target.from_environ(os.environ)
    env_dir = os.path.join(platform_dir, "env") if platform_dir else None
    config_vars = config.from_env_dir(env_dir)
    exported = read_env_files(env_dir, config_vars.denied) if env_dir else {}
    platform_env = without_denied_exports(os.environ, exported, _home())

    where = layout.cnb(app_dir, layers_dir)
    prepare_cache_layer(Layer(layers_dir, layout.CNB_CACHE_LAYER), target, out)
    store = LayerStore(Layer(layers_dir, layout.CNB_VENV_LAYER), target, out)
    result = pipeline.build(where, config_vars, platform_env, out, store)
    store.write_toml()

    files, executable = runtime_layer_files(where, result.exports)
    write_runtime_layer(Layer(layers_dir, RUNTIME_LAYER), files, executable, out)

    processes = launch_processes(result.processes, result.info.procfile)
    with open(os.path.join(layers_dir, "launch.toml"), "w", encoding="utf-8") as handle:
        handle.write(launch_toml(processes))
    if result.info.procfile is not None:
        out.header("Using your Procfile: " + ", ".join(result.info.procfile.names))
    names = [p["type"] + (" (default)" if p["default"] else "") for p in processes]
    out.header("Processes (launch.toml): " + ", ".join(names))
    for process in processes:
        out.info(f"{process['type']}: {process['command'][-1]}")
    out.header(f"Build finished in {time.monotonic() - started:.1f}s")
    return 0


def _home() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return "/"
