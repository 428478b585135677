"""A faithful local stand-in for the Cloud Native Buildpacks lifecycle (what `pack build` and
`docker run` do), for integration tests. No Docker engine or lifecycle binary runs here.

What it models (../shared/reference/buildpack-apis.md §0 and §2; spec buildpack.md/platform.md;
lifecycle phase/restorer.go, internal/layer/metadata_restorer.go, launch/*, env/*):

- detect: the buildpack's [[targets]] must match this machine (os/arch), else the group fails
  before bin/detect runs. bin/detect runs as the unprivileged build user (CNB_USER_ID) with the
  app at /workspace, mounted read-only, as its working directory; CNB_BUILD_PLAN_PATH,
  CNB_BUILDPACK_DIR, CNB_PLATFORM_DIR, CNB_TARGET_* set, positional args PLATFORM PLAN; the user's
  env files exported unless clear-env. Exit 0 = pass, 100 = fail, anything else = error. A plan
  must be self-consistent (every provide required, every require provided, in one of the
  candidate plans: top level or an [[or]]); the chosen requires become the Buildpack Plan.
- analyze + restore: from the previous image, `<layer>.toml` [metadata] (never [types]) for
  launch layers (not for build-only-and-uncached ones; for launch+cache ones only when the cache
  has them); from the cache, [metadata] of cache-only layers; contents of cache layers only, and
  for launch+cache layers only when the cache's copy is the one in the previous image (same
  digest), else the layer is removed. Launch-only layers come back as metadata only. Restored
  .toml files are written the lifecycle's way (BurntSushi/toml layout), not ours.
- build: bin/build as the build user in a private mount namespace with the app at /workspace and
  the layers dir at /layers/<escaped buildpack id> (so builds run side by side), a writable HOME,
  CNB_LAYERS_DIR, CNB_PLATFORM_DIR, CNB_BP_PLAN_PATH, CNB_BUILDPACK_DIR, CNB_TARGET_*, positional
  args, the user's env files exported (PATH-like variables prepended, others overriding).
  Layers whose types are all false are renamed <layer>.ignore; launch.toml is validated.
- export: every launch = true layer goes into the image: its directory if present (reported
  "reused" when its content digest equals the previous image's layer, else "added"), else the
  previous image's layer (reported "reused-previous"), failing when there is none; plus the app dir and
  the processes (default: the default = true one). The cache becomes the cache = true layers
  with their metadata and contents. A failed build exports nothing (the cache is untouched).
- launch: the image's app dir and layers are overlay-mounted (read-only image, a writable
  container layer) at /workspace and /layers in a private mount namespace; the launcher
  (cnb_launcher.py) builds the environment from layer bin/, lib/, env/, env.launch/ (suffix
  rules) and exec.d/ (fd 3 TOML), then execs the process, as the run image's user (another
  non-root uid in the build user's group), with the container env (PORT as `docker run -e`).

What it does not model: separate build and run base images (both are this machine: Debian 12,
its python3 and bash are present at run time), OCI images, registries and tar layer digests
(a directory per image, content digests without mtimes), multi-buildpack groups and order
resolution, SBOMs, slices, store.toml, extensions, exec-env, shell processes of API < 0.9, and
container resource limits (the process sees this machine's cgroup). As in the Heroku harness,
/etc/pip.conf is neutralised (PIP_CONFIG_FILE=/dev/null): a build image has none.
Needs root (users, mount namespaces, overlayfs).
"""

from __future__ import annotations

import json
import os
import platform
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

import tomllib

from tests.harness.heroku import Dyno, Result, free_port, stage_buildpack
from tests.harness.runimage import HIDE_STACK_PYTHON, tool_python

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_USER = "lpcnb"  # the build image's CNB_USER_ID
RUN_USER = "lpcnbrun"  # the run image's USER: another uid, same group
APP_DIR = "/workspace"
LAYERS_DIR = "/layers"
STACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LAYER_PATH_VARS = ("PATH", "LD_LIBRARY_PATH", "LIBRARY_PATH", "CPATH", "PKG_CONFIG_PATH")
PROCESS_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}
PASSED, FAILED = 0, 100
# Where the platform keeps builds, images and caches (Docker's storage, in effect). The buildpack
# only ever sees them mounted at /workspace and /layers, so this is invisible to it; RAM-backed
# storage makes the many small files of a virtualenv cheap to copy, link and delete.
STORAGE = os.environ.get("LAUNCHPACK_CNB_STORAGE") or ("/dev/shm" if os.path.isdir("/dev/shm") else "/tmp")


def ensure_users() -> None:
    if os.geteuid() != 0:
        raise RuntimeError("the CNB harness needs root (users, mount namespaces, overlayfs)")
    for user, extra in ((BUILD_USER, []), (RUN_USER, ["-g", BUILD_USER])):
        try:
            pwd.getpwnam(user)
        except KeyError:
            subprocess.run(
                ["useradd", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/bin/bash", *extra, user],
                check=True,
            )
    for mount_point in (APP_DIR, LAYERS_DIR):
        os.makedirs(mount_point, exist_ok=True)


def ids(user: str) -> tuple[int, int]:
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def chown_tree(path: str, user: str) -> None:
    uid, gid = ids(user)
    subprocess.run(["chown", "-R", f"{uid}:{gid}", path], check=True)


def escape_id(buildpack_id: str) -> str:
    return buildpack_id.replace("/", "_")


def host_target() -> dict[str, str]:
    fields = {}
    with open("/etc/os-release", encoding="utf-8") as handle:
        for line in handle:
            key, _, value = line.strip().partition("=")
            fields[key] = value.strip('"')
    machine = platform.machine()
    return {
        "os": "linux",
        "arch": ARCH.get(machine, machine),
        "distro_name": fields.get("ID", ""),
        "distro_version": fields.get("VERSION_ID", ""),
    }


def tree_digest(path: str) -> str:
    """A layer's content digest: paths, types, modes and contents; not mtimes or owners (the
    exporter normalises those), so an unchanged directory has an unchanged digest."""
    import hashlib

    sha = hashlib.sha256()
    for root, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(dirs + files):
            full = os.path.join(root, name)
            rel = os.path.relpath(full, path)
            info = os.lstat(full)
            if os.path.islink(full):
                sha.update(f"L {rel} {os.readlink(full)}\n".encode())
            elif os.path.isdir(full):
                sha.update(f"D {rel} {info.st_mode & 0o777:o}\n".encode())
            else:
                with open(full, "rb") as handle:
                    content = hashlib.sha256(handle.read()).hexdigest()
                sha.update(f"F {rel} {info.st_mode & 0o777:o} {content}\n".encode())
    return sha.hexdigest()


def lifecycle_toml(metadata: dict) -> str:
    """A restored <layer>.toml as the lifecycle writes it: [metadata] only, nested tables
    indented, keys sorted (BurntSushi/toml's encoder). JSON scalars are valid TOML values."""
    lines = ["[metadata]"]

    def emit(table: dict, path: list[str], indent: str) -> None:
        for key in sorted(table):
            value = table[key]
            if value is not None and not isinstance(value, dict):
                lines.append(f"{indent}{key} = {json.dumps(value)}")
        for key in sorted(table):
            if isinstance(table[key], dict):
                lines.append(f"{indent}[{'.'.join([*path, key])}]")
                emit(table[key], [*path, key], indent + "  ")

    emit(metadata or {}, ["metadata"], "  ")
    return "\n".join(lines) + "\n"


def copy_tree(source: str, target: str, hardlink: bool = False) -> None:
    """cp -a, or cp -al for trees nobody modifies in place (images, caches): files are only
    ever replaced (write_json) or removed, never rewritten, so hard links are safe to share."""
    subprocess.run(["cp", "-al" if hardlink else "-a", source, target], check=True)


def remove_tree(path: str) -> None:
    subprocess.run(["rm", "-rf", path], check=True)  # much faster than shutil.rmtree on venvs


def write_json(path: str, data: dict) -> None:
    """Replace the file (a new inode): a hard-linked copy elsewhere keeps the old contents."""
    fresh = path + ".new"
    with open(fresh, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(fresh, path)


def in_namespace(mounts: list[tuple[str, str, str]], command: list[str], run_image: bool = False) -> list[str]:
    """Run command in a private mount namespace with (kind, source, target) mounts:
    kind "bind", "ro" (read-only bind) or "overlay" (source = "lower:upper:work").
    run_image: model a run image, which has no system Python (tests/harness/runimage.py)."""
    script = []
    for kind, source, target in mounts:
        if kind == "bind":
            script.append(f'mount --bind "{source}" "{target}"')
        elif kind == "ro":
            script.append(f'mount --bind "{source}" "{target}" && mount -o remount,bind,ro "{target}"')
        elif kind == "overlay":
            lower, upper, work = source.split(":")
            script.append(f'mount -t overlay overlay -o "lowerdir={lower},upperdir={upper},workdir={work}" "{target}"')
    if run_image:
        script.append("{ " + HIDE_STACK_PYTHON + "; }")
    script.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", " && ".join(script), "sh", *command]


def as_user(user: str, env: dict[str, str], command: list[str], cwd: str) -> list[str]:
    uid, gid = ids(user)
    env_args = [f"{k}={v}" for k, v in env.items()]
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", "env", "-i", f"--chdir={cwd}", *env_args, *command]


@dataclass
class Buildpack:
    path: str
    id: str
    version: str
    api: str
    targets: list[dict]
    clear_env: bool

    @classmethod
    def read(cls, path: str) -> Buildpack:
        with open(os.path.join(path, "buildpack.toml"), "rb") as handle:
            descriptor = tomllib.load(handle)
        info = descriptor["buildpack"]
        return cls(path, info["id"], info["version"], descriptor["api"], descriptor.get("targets") or [], bool(info.get("clear-env")))

    def matches(self, target: dict[str, str]) -> bool:
        if not self.targets:  # none declared: linux, any arch (bin/build exists)
            return target["os"] == "linux"
        for declared in self.targets:
            if all(declared.get(k) in (None, target[k]) for k in ("os", "arch")):
                distros = declared.get("distros") or []
                if not distros or any(
                    d.get("name") in (None, target["distro_name"]) and d.get("version") in (None, target["distro_version"])
                    for d in distros
                ):
                    return True
        return False


@dataclass
class Cache:
    """The build cache (pack: a volume): layer metadata and contents of cache = true layers."""

    path: str

    def metadata(self) -> dict:
        try:
            with open(os.path.join(self.path, "metadata.json"), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return {}

    def layer_dir(self, buildpack_id: str, name: str) -> str:
        return os.path.join(self.path, "layers", escape_id(buildpack_id), name)


@dataclass
class Image:
    """An app image: app dir, launch layers (as the launcher sees them) and process config."""

    path: str

    @property
    def app(self) -> str:
        return os.path.join(self.path, "app")

    @property
    def layers(self) -> str:
        return os.path.join(self.path, "layers")

    def metadata(self) -> dict:
        with open(os.path.join(self.layers, "config", "metadata.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def layer_dir(self, buildpack_id: str, name: str) -> str:
        return os.path.join(self.layers, escape_id(buildpack_id), name)

    def layer_metadata(self, buildpack_id: str) -> dict:
        return self.metadata()["layers"].get(buildpack_id, {})

    def process(self, name: str) -> dict | None:
        return next((p for p in self.metadata()["processes"] if p["type"] == name), None)

    @property
    def default_process(self) -> str | None:
        return self.metadata().get("default_process")


@dataclass
class Phase:
    returncode: int
    output: str
    seconds: float


@dataclass
class Build:
    detect: Phase
    plan: dict | None = None
    restored: dict[str, str] = field(default_factory=dict)  # layer -> "metadata" | "metadata and contents"
    build: Phase | None = None
    image: Image | None = None
    # launch layer -> "added", "reused" (same digest as the previous image's), or "reused-previous"
    # (no directory: the previous image's layer is kept)
    exported: dict[str, str] = field(default_factory=dict)
    cached: dict[str, str] = field(default_factory=dict)  # cache layer -> "added" | "reused"
    layer_types: dict[str, dict] = field(default_factory=dict)
    launch_toml: dict | None = None
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.image is not None

    @property
    def output(self) -> str:
        parts = [self.detect.output]
        if self.build:
            parts.append(self.build.output)
        if self.error:
            parts.append("lifecycle: " + self.error)
        return "\n".join(parts)


@dataclass
class Lifecycle:
    buildpack_dir: str
    created: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.buildpack = Buildpack.read(self.buildpack_dir)
        self.target = host_target()
        # The launcher must be readable by the run user (the checkout may be under /root).
        self.launcher = self._mkdtemp("cnb_launcher_", owner=None)
        shutil.copy(os.path.join(HERE, "cnb_launcher.py"), self.launcher)
        subprocess.run(["chmod", "-R", "a+rX", self.launcher], check=True)

    @classmethod
    def staged(cls, packaged: str | None = None) -> Lifecycle:
        """From a copy of the checkout's buildpack (buildpack/ + the core) or of a packaged one."""
        staged = stage_buildpack(packaged)
        # The checkout's buildpack is buildpack/ (bin/, lib/, buildpack.toml) with the core next to it.
        lifecycle = cls(staged if packaged else os.path.join(staged, "buildpack"))
        lifecycle.created.append(staged)
        return lifecycle

    def _mkdtemp(self, prefix: str, owner: str | None = BUILD_USER) -> str:
        path = tempfile.mkdtemp(prefix="launchpack-" + prefix, dir=STORAGE)
        os.chmod(path, 0o755)
        if owner:
            chown_tree(path, owner)
        self.created.append(path)
        return path

    def new_cache(self) -> Cache:
        return Cache(self._mkdtemp("cnb_cache_", owner=None))

    def copy_cache(self, cache: Cache) -> Cache:
        """A second cache volume with the same contents (to share a warm cache between tests)."""
        target = self._mkdtemp("cnb_cache_", owner=None)
        os.rmdir(target)
        copy_tree(cache.path, target, hardlink=True)  # cache contents are never modified in place
        return Cache(target)

    # --- environment --------------------------------------------------------------------

    def _user_env(self, env_dir: str) -> dict[str, str]:
        values = {}
        for name in sorted(os.listdir(env_dir)):
            with open(os.path.join(env_dir, name), encoding="utf-8") as handle:
                values[name] = handle.read()
        return values

    def _phase_env(self, base: dict[str, str], user: dict[str, str]) -> dict[str, str]:
        env = dict(base)
        if not self.buildpack.clear_env:
            for name, value in user.items():
                if name in LAYER_PATH_VARS:
                    env[name] = value + (os.pathsep + env[name] if env.get(name) else "")
                else:
                    env[name] = value
        return env

    def _target_env(self) -> dict[str, str]:
        return {
            "CNB_TARGET_OS": self.target["os"],
            "CNB_TARGET_ARCH": self.target["arch"],
            "CNB_TARGET_DISTRO_NAME": self.target["distro_name"],
            "CNB_TARGET_DISTRO_VERSION": self.target["distro_version"],
        }

    def _run(self, user: str, env: dict[str, str], args: list[str], mounts, cwd: str, timeout: int) -> Phase:
        started = time.monotonic()
        completed = subprocess.run(
            in_namespace(mounts, as_user(user, env, args, cwd)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        return Phase(completed.returncode, completed.stdout, time.monotonic() - started)

    # --- phases -------------------------------------------------------------------------

    def _detect(self, work: str, user_env: dict[str, str]) -> tuple[Phase, dict | None, str | None]:
        if not self.buildpack.matches(self.target):
            return Phase(FAILED, "", 0.0), None, f"no [[targets]] entry matches {self.target}"
        plan_dir = os.path.join(work, "detect")
        os.makedirs(plan_dir)
        chown_tree(plan_dir, BUILD_USER)
        plan_path = os.path.join(plan_dir, "plan.toml")
        platform_dir = os.path.join(work, "platform")
        env = self._phase_env(
            {
                "PATH": STACK_PATH,
                "HOME": os.path.join(work, "home"),
                "CNB_BUILD_PLAN_PATH": plan_path,
                "CNB_BUILDPACK_DIR": self.buildpack.path,
                "CNB_PLATFORM_DIR": platform_dir,
                **self._target_env(),
            },
            user_env,
        )
        phase = self._run(
            BUILD_USER,
            env,
            [os.path.join(self.buildpack.path, "bin", "detect"), platform_dir, plan_path],
            [("ro", os.path.join(work, "workspace"), APP_DIR)],
            APP_DIR,
            timeout=120,
        )
        if phase.returncode != PASSED:
            return phase, None, None
        plan = {}
        if os.path.exists(plan_path):
            with open(plan_path, "rb") as handle:
                plan = tomllib.load(handle)
        candidates = [plan, *(plan.get("or") or [])]
        for candidate in candidates:
            provides = {p["name"] for p in candidate.get("provides") or []}
            requires = [r for r in candidate.get("requires") or []]
            if provides == {r["name"] for r in requires}:
                return phase, {"plan": plan, "entries": requires}, None
        return phase, {"plan": plan, "entries": []}, "no self-consistent build plan (every provide required, every require provided)"

    def _restore(self, layers: str, previous: Image | None, cache: Cache | None) -> dict[str, str]:
        bp = self.buildpack.id
        app_layers = previous.layer_metadata(bp) if previous else {}
        cached = (cache.metadata().get(bp, {}) if cache else {}) or {}
        shas: dict[str, str] = {}
        restored: dict[str, str] = {}

        def write_metadata(name: str, layer: dict) -> None:
            with open(os.path.join(layers, name + ".toml"), "w", encoding="utf-8") as handle:
                handle.write(lifecycle_toml(layer.get("metadata") or {}))
            shas[name] = layer["sha"]
            restored[name] = "metadata"

        for name, layer in app_layers.items():
            types = layer["types"]
            if not types.get("launch") or (types.get("build") and not types.get("cache")):
                continue
            if types.get("cache") and not (cached.get(name) or {}).get("types", {}).get("cache"):
                continue
            write_metadata(name, layer)
        for name, layer in cached.items():
            if layer["types"].get("cache") and not layer["types"].get("launch"):
                write_metadata(name, layer)
        for name, layer in cached.items():
            if name not in shas or not layer["types"].get("cache"):
                continue
            if shas[name] != layer["sha"]:  # the cache's copy is not the image's: stale
                os.unlink(os.path.join(layers, name + ".toml"))
                del restored[name]
                continue
            copy_tree(cache.layer_dir(bp, name), os.path.join(layers, name))
            restored[name] = "metadata and contents"
        chown_tree(layers, BUILD_USER)
        return restored

    def _layer_types(self, layers: str) -> dict[str, dict]:
        types = {}
        for entry in sorted(os.listdir(layers)):
            if not entry.endswith(".toml") or entry in ("launch.toml", "build.toml", "store.toml"):
                continue
            with open(os.path.join(layers, entry), "rb") as handle:
                data = tomllib.load(handle)
            name = entry[: -len(".toml")]
            types[name] = {"types": {k: bool((data.get("types") or {}).get(k)) for k in ("launch", "build", "cache")}, "metadata": data.get("metadata") or {}}
        return types

    def _processes(self, layers: str) -> tuple[dict | None, list[dict], str | None]:
        path = os.path.join(layers, "launch.toml")
        if not os.path.exists(path):
            return None, [], None
        with open(path, "rb") as handle:
            launch = tomllib.load(handle)
        processes = []
        for process in launch.get("processes") or []:
            if not PROCESS_TYPE.match(process.get("type", "")):
                raise ValueError(f"invalid process type {process.get('type')!r}")
            command = process.get("command")
            if not (isinstance(command, list) and command and all(isinstance(c, str) for c in command)):
                raise ValueError(f"process {process['type']}: command must be a non-empty array of strings (API >= 0.9)")
            processes.append({**process, "buildpack_id": self.buildpack.id})
        defaults = [p["type"] for p in processes if p.get("default")]
        if len(defaults) > 1:
            raise ValueError(f"more than one default process: {defaults}")
        return launch, processes, defaults[0] if defaults else None

    def _export(self, work: str, layers: str, previous: Image | None, cache: Cache | None, result: Build) -> None:
        bp = self.buildpack.id
        image = Image(self._mkdtemp("cnb_image_", owner=None))
        result.layer_types = self._layer_types(layers)
        result.launch_toml, processes, default = self._processes(layers)
        image_layers: dict[str, dict] = {}
        digests: dict[str, str] = {}  # each layer's, computed once for the image and the cache
        previous_layers = previous.layer_metadata(bp) if previous else {}
        os.makedirs(os.path.join(image.layers, escape_id(bp)))
        for name, layer in result.layer_types.items():
            types, source = layer["types"], os.path.join(layers, name)
            if not any(types.values()):
                if os.path.isdir(source):
                    os.rename(source, source + ".ignore")
                continue
            if not types["launch"]:
                continue
            target = image.layer_dir(bp, name)
            if os.path.isdir(source):
                sha = digests.setdefault(name, tree_digest(source))
                copy_tree(source, target, hardlink=True)
                before = previous_layers.get(name, {}).get("sha")
                result.exported[name] = "reused" if before == sha else "added"
            elif name in previous_layers:
                sha = previous_layers[name]["sha"]
                copy_tree(previous.layer_dir(bp, name), target, hardlink=True)
                result.exported[name] = "reused-previous"
            else:
                raise ValueError(f"layer {name!r} has launch = true and no directory, and no previous image has it")
            image_layers[name] = {**layer, "sha": sha}
        copy_tree(os.path.join(work, "workspace"), image.app, hardlink=True)
        os.makedirs(os.path.join(image.layers, "config"))
        write_json(
            os.path.join(image.layers, "config", "metadata.json"),
            {
                "buildpacks": [{"id": bp, "version": self.buildpack.version, "api": self.buildpack.api}],
                "processes": processes,
                "default_process": default,
                "layers": {bp: image_layers},
            },
        )
        subprocess.run(["chmod", "-R", "a+rX", image.layers], check=True)
        if cache is not None:
            self._save_cache(cache, layers, result, digests)
        result.image = image

    def _save_cache(self, cache: Cache, layers: str, result: Build, digests: dict[str, str]) -> None:
        bp = self.buildpack.id
        old = cache.metadata().get(bp, {})
        new: dict[str, dict] = {}
        fresh_root = os.path.join(cache.path, "layers.new")
        os.makedirs(os.path.join(fresh_root, escape_id(bp)))
        for name, layer in result.layer_types.items():
            source = os.path.join(layers, name)
            if not layer["types"]["cache"] or not os.path.isdir(source):
                continue
            sha = digests.get(name) or tree_digest(source)
            previous_copy = cache.layer_dir(bp, name)
            if old.get(name, {}).get("sha") == sha and os.path.isdir(previous_copy):
                copy_tree(previous_copy, os.path.join(fresh_root, escape_id(bp), name), hardlink=True)
                result.cached[name] = "reused"
            else:
                copy_tree(source, os.path.join(fresh_root, escape_id(bp), name), hardlink=True)
                result.cached[name] = "added"
            new[name] = {**layer, "sha": sha}
        remove_tree(os.path.join(cache.path, "layers"))
        os.rename(fresh_root, os.path.join(cache.path, "layers"))
        write_json(os.path.join(cache.path, "metadata.json"), {bp: new})

    def build(
        self,
        app_source: str,
        env: dict[str, str] | None = None,
        cache: Cache | None = None,
        previous: Image | None = None,
        timeout: int = 900,
    ) -> Build:
        """`pack build`: detect, analyze + restore, build, export. Returns what happened."""
        started = time.monotonic()
        work = self._mkdtemp("cnb_build_")
        workspace = os.path.join(work, "workspace")
        shutil.copytree(app_source, workspace, symlinks=True)
        for name in ("home", "layers", "bp-plan"):
            os.makedirs(os.path.join(work, name))
        env_dir = os.path.join(work, "platform", "env")
        os.makedirs(env_dir)
        for name, value in (env or {}).items():
            with open(os.path.join(env_dir, name), "w", encoding="utf-8") as handle:
                handle.write(value)
        chown_tree(work, BUILD_USER)
        subprocess.run(["chmod", "-R", "a+rX", os.path.join(work, "platform")], check=True)
        user_env = self._user_env(env_dir)

        detect, plan, error = self._detect(work, user_env)
        result = Build(detect, plan, error=error)
        result.seconds["detect"] = detect.seconds
        if detect.returncode != PASSED or error:
            return result

        layers = os.path.join(work, "layers", escape_id(self.buildpack.id))
        os.makedirs(layers)
        phase_started = time.monotonic()
        result.restored = self._restore(layers, previous, cache)
        result.seconds["restore"] = time.monotonic() - phase_started

        bp_plan = os.path.join(work, "bp-plan", "plan.toml")
        with open(bp_plan, "w", encoding="utf-8") as handle:
            for entry in plan["entries"]:
                handle.write(f"[[entries]]\nname = {json.dumps(entry['name'])}\n")
        chown_tree(work, BUILD_USER)
        platform_dir = os.path.join(work, "platform")
        layers_in_ns = os.path.join(LAYERS_DIR, escape_id(self.buildpack.id))
        build_env = self._phase_env(
            {
                "PATH": STACK_PATH,
                "HOME": os.path.join(work, "home"),
                "PIP_CONFIG_FILE": "/dev/null",
                "CNB_LAYERS_DIR": layers_in_ns,
                "CNB_PLATFORM_DIR": platform_dir,
                "CNB_BP_PLAN_PATH": bp_plan,
                "CNB_BUILDPACK_DIR": self.buildpack.path,
                **self._target_env(),
            },
            user_env,
        )
        result.build = self._run(
            BUILD_USER,
            build_env,
            [os.path.join(self.buildpack.path, "bin", "build"), layers_in_ns, platform_dir, bp_plan],
            [("bind", workspace, APP_DIR), ("bind", os.path.join(work, "layers"), LAYERS_DIR)],
            APP_DIR,
            timeout,
        )
        result.seconds["build"] = result.build.seconds
        if result.build.returncode != 0:
            result.error = f"bin/build exited with {result.build.returncode}: the builder fails (exit 51), nothing is exported"
            return result
        phase_started = time.monotonic()
        try:
            self._export(work, layers, previous, cache, result)
        except ValueError as exc:
            result.error = f"export failed: {exc}"
            result.image = None
        result.seconds["export"] = time.monotonic() - phase_started
        result.seconds["total"] = time.monotonic() - started
        remove_tree(work)  # the image and cache hold hard links of what they keep
        return result

    def detect_only(self, app_source: str, env: dict[str, str] | None = None) -> tuple[Phase, dict | None, str | None]:
        work = self._mkdtemp("cnb_build_")
        shutil.copytree(app_source, os.path.join(work, "workspace"), symlinks=True)
        os.makedirs(os.path.join(work, "home"))
        env_dir = os.path.join(work, "platform", "env")
        os.makedirs(env_dir)
        for name, value in (env or {}).items():
            with open(os.path.join(env_dir, name), "w", encoding="utf-8") as handle:
                handle.write(value)
        chown_tree(work, BUILD_USER)
        return self._detect(work, self._user_env(env_dir))

    # --- running the image ----------------------------------------------------------------

    def _container(self, image: Image, launcher_args: list[str], env: dict[str, str] | None) -> tuple[list[str], str]:
        box = self._mkdtemp("cnb_container_", owner=None)
        for name in ("app-upper", "app-work", "layers-upper", "layers-work", "home"):
            os.makedirs(os.path.join(box, name))
        chown_tree(os.path.join(box, "home"), RUN_USER)
        # The container's environment: the run image's, the exporter's image config, `docker run -e`.
        container_env = {
            "PATH": "/cnb/process:/cnb/lifecycle:" + STACK_PATH,
            "HOME": os.path.join(box, "home"),
            "CNB_APP_DIR": APP_DIR,
            "CNB_LAYERS_DIR": LAYERS_DIR,
            "CNB_PLATFORM_API": "0.15",
            **(env or {}),
        }
        mounts = [
            ("overlay", f"{image.app}:{box}/app-upper:{box}/app-work", APP_DIR),
            ("overlay", f"{image.layers}:{box}/layers-upper:{box}/layers-work", LAYERS_DIR),
        ]
        env_file = os.path.join(box, "env.json")
        with open(env_file, "w", encoding="utf-8") as handle:
            json.dump(container_env, handle)
        os.chmod(env_file, 0o644)
        # The lifecycle's launcher is its own binary, not the run image's Python: our stand-in runs
        # on a private copy of Python, so the app cannot lean on the machine's.
        launcher = [tool_python(), "-I", os.path.join(self.launcher, "cnb_launcher.py"), "--env-file", env_file]
        command = as_user(RUN_USER, {"PATH": STACK_PATH}, [*launcher, *launcher_args], "/")
        return in_namespace(mounts, command, run_image=True), box

    def start(self, image: Image, process: str | None = None, env: dict[str, str] | None = None) -> Dyno:
        """`docker run -e PORT=<port> [--entrypoint <process>] image`: a long-running container."""
        port = free_port()
        name = process or image.default_process
        args, _box = self._container(image, ["--process", process] if process else [], {"PORT": str(port), **(env or {})})
        log = tempfile.NamedTemporaryFile("w+", prefix=f"cnb-{name}-", suffix=".log", delete=False)
        self.created.append(log.name)
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return Dyno(proc, port, log.name, json.dumps((image.process(name) or {}).get("command")))

    def run(
        self,
        image: Image,
        process: str | None = None,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
        timeout: int = 300,
    ) -> Result:
        """A container run to completion: a process type (`--entrypoint <type>`) or, with
        command, `docker run --entrypoint launcher image -- <command>` (run directly, with the
        launch environment)."""
        launcher_args = ["--", *command] if command is not None else (["--process", process] if process else [])
        args, _box = self._container(image, launcher_args, env)
        completed = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
        return Result(completed.returncode, completed.stdout)

    def cleanup(self) -> None:
        for path in reversed(self.created):
            if os.path.isdir(path):
                remove_tree(path)
            elif os.path.exists(path):
                os.unlink(path)
