"""The CNB launcher (the app image's ENTRYPOINT), modelled for tests/harness/cnb.py.

Runs inside the container (private mounts of the image at /workspace and /layers) as the run
image's user, with the container's environment, and then execs the process, as the lifecycle's
`launcher` does (platform.md "launcher"; lifecycle launch/launcher.go, env/env.go, exec_d.go):

1. chdir to the app dir; drop CNB_APP_DIR, CNB_LAYERS_DIR, CNB_PROCESS_TYPE; strip /cnb/process
   from PATH.
2. For each buildpack (group order): for each layer directory (by name), <layer>/bin is
   prepended to PATH and <layer>/lib to LD_LIBRARY_PATH; then, for each layer directory (by
   name), the env files of <layer>/env/, <layer>/env.launch/ and <layer>/env.launch/<process>/
   are applied by the suffix rules (Buildpack API >= 0.5: none = override, .override, .default
   (only when empty), .prepend/.append joined with the <NAME>.delim file's contents, or nothing
   when there is none; other suffixes are ignored; contents verbatim).
3. exec.d: each executable file in <layer>/exec.d/ then <layer>/exec.d/<process>/ (buildpack
   order, layer name, file name) runs with that environment, cwd the app dir, stdout/stderr
   inherited, and a pipe as file descriptor 3; it must exit 0 and its fd-3 output, TOML
   `NAME = "value"`, overrides the environment.
4. exec: a process type's `command` (+ `args`) with command[0] looked up on the new PATH, or,
   after `--`, the user's command run directly (`docker run --entrypoint launcher img -- cmd args`).

Exit statuses 80-89 are the launcher's own failures, as the lifecycle's.

Standard library only (runs on the machine's python3, like the real launcher needs nothing).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

try:
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None

EXCLUDED = ("CNB_APP_DIR", "CNB_LAYERS_DIR", "CNB_PROCESS_TYPE")
ROOT_DIRS = {"bin": ("PATH",), "lib": ("LD_LIBRARY_PATH",)}
LAUNCH_ERROR, NO_PROCESS, EXECD_FAILED, EXEC_FAILED = 80, 81, 82, 83


def escape_id(buildpack_id: str) -> str:
    return buildpack_id.replace("/", "_")


def _prefix(value: str, sep: str) -> str:
    return sep + value if value else ""


def _suffix(value: str, sep: str) -> str:
    return value + sep if value else ""


def add_root_dir(env: dict[str, str], layer_dir: str) -> None:
    for sub, names in ROOT_DIRS.items():
        path = os.path.join(layer_dir, sub)
        if os.path.isdir(path):
            for name in names:
                env[name] = path + _prefix(env.get(name, ""), os.pathsep)


def _env_files(directory: str) -> list[tuple[str, str]]:
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    files = []
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(path):  # also a symlink to a directory
            continue
        with open(path, encoding="utf-8", errors="surrogateescape") as handle:
            files.append((name, handle.read()))
    return files


def _delim(directory: str, name: str) -> str:
    try:
        with open(os.path.join(directory, name + ".delim"), encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def add_env_dir(env: dict[str, str], directory: str) -> None:
    for filename, value in _env_files(directory):
        name, _, action = filename.partition(".")
        current = env.get(name, "")
        if action in ("", "override"):
            env[name] = value
        elif action == "default":
            if current == "":
                env[name] = value
        elif action == "prepend":
            env[name] = value + _prefix(current, _delim(directory, name))
        elif action == "append":
            env[name] = _suffix(current, _delim(directory, name)) + value
        # any other suffix (.delim included) is not a modification


def layer_dirs(layers_dir: str, buildpack_id: str) -> list[str]:
    root = os.path.join(layers_dir, escape_id(buildpack_id))
    try:
        names = sorted(os.listdir(root))
    except FileNotFoundError:
        return []
    return [os.path.join(root, n) for n in names if os.path.isdir(os.path.join(root, n))]


def launch_env(environ: dict[str, str], layers_dir: str, buildpacks: list[dict], process_type: str) -> dict[str, str]:
    env = {k: v for k, v in environ.items() if k not in EXCLUDED}
    if "PATH" in env:
        env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != "/cnb/process")
    for buildpack in buildpacks:
        dirs = layer_dirs(layers_dir, buildpack["id"])
        for layer in dirs:
            add_root_dir(env, layer)
        for layer in dirs:
            add_env_dir(env, os.path.join(layer, "env"))
            add_env_dir(env, os.path.join(layer, "env.launch"))
            if process_type:
                add_env_dir(env, os.path.join(layer, "env.launch", process_type))
    return env


def execd_programs(layers_dir: str, buildpacks: list[dict], process_type: str) -> list[str]:
    programs = []
    for buildpack in buildpacks:
        for layer in layer_dirs(layers_dir, buildpack["id"]):
            for directory in [os.path.join(layer, "exec.d")] + (
                [os.path.join(layer, "exec.d", process_type)] if process_type else []
            ):
                try:
                    names = sorted(os.listdir(directory))
                except FileNotFoundError:
                    continue
                programs.extend(os.path.join(directory, n) for n in names if not os.path.isdir(os.path.join(directory, n)))
    return programs


def run_execd(program: str, env: dict[str, str], app_dir: str) -> dict[str, str]:
    read_end, write_end = os.pipe()  # both close-on-exec
    try:
        # In the child only: the pipe's write end becomes fd 3 (dup2 makes it inheritable).
        proc = subprocess.Popen(
            [program], env=env, cwd=app_dir, close_fds=False, preexec_fn=lambda: os.dup2(write_end, 3)
        )
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        output = reader.read().decode("utf-8")
    if proc.wait() != 0:
        raise RuntimeError(f"exec.d program {program} exited with {proc.returncode}")
    values = tomllib.loads(output)
    bad = [k for k, v in values.items() if not isinstance(v, str)]
    if bad:
        raise RuntimeError(f"exec.d program {program} wrote non-string values for {bad}")
    return values


def main(argv: list[str]) -> int:
    # The container's environment comes in a file: this Python's own environment is not the
    # container's (Python coerces the C locale by setting LC_CTYPE, which a Go launcher does not).
    environ = dict(os.environ)
    if argv[:1] == ["--env-file"]:
        with open(argv[1], encoding="utf-8") as handle:
            environ = json.load(handle)
        argv = argv[2:]
    layers_dir = environ.get("CNB_LAYERS_DIR", "/layers")
    app_dir = environ.get("CNB_APP_DIR", "/workspace")
    with open(os.path.join(layers_dir, "config", "metadata.json"), encoding="utf-8") as handle:
        config = json.load(handle)
    processes = {p["type"]: p for p in config["processes"]}
    user_command: list[str] | None = None
    if argv[:1] == ["--"]:
        user_command, process = argv[1:], None
    elif argv[:1] == ["--process"]:
        process = processes.get(argv[1])
    else:
        process = processes.get(config.get("default_process") or "")
    if user_command is None and process is None:
        sys.stderr.write("launcher: no such process (and no default process)\n")
        return NO_PROCESS
    process_type = process["type"] if process else ""
    os.chdir((process.get("working-dir") or app_dir) if process else app_dir)
    env = launch_env(environ, layers_dir, config["buildpacks"], process_type)
    for program in execd_programs(layers_dir, config["buildpacks"], process_type):
        try:
            env.update(run_execd(program, env, app_dir))
        except (RuntimeError, OSError, ValueError) as exc:
            sys.stderr.write(f"launcher: {exc}\n")
            return EXECD_FAILED
    argv_out = user_command if user_command is not None else list(process["command"]) + list(process.get("args") or [])
    if not argv_out:
        sys.stderr.write("launcher: empty command\n")
        return LAUNCH_ERROR
    binary = argv_out[0] if "/" in argv_out[0] else shutil.which(argv_out[0], path=env.get("PATH", ""))
    if not binary:
        sys.stderr.write(f"launcher: {argv_out[0]} not found on PATH {env.get('PATH')}\n")
        return EXEC_FAILED
    sys.stdout.flush()
    os.execve(binary, argv_out, env)
    return EXEC_FAILED  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
