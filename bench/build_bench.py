"""Build speed: launchpack against warpdrive 0.34 on examples/django.

warpdrive builds into a local project env, so the like-for-like comparison (the one the targets
apply to) is launchpack's local build, `launchpack build`, which also keeps a project env. The
Heroku adapter's bin/compile is measured too: it must restore the environment into a fresh
BUILD_DIR on every build, as Heroku stages one, which a local build never does.

Three scenarios, each run as interleaved runs (so load from other processes on the machine
hits every side alike), reporting medians and the ratio launchpack / warpdrive:

- cold:    empty caches on both sides (launchpack: new CACHE_DIR; warpdrive: new project venv,
           new pip cache), the same package index (PyPI) for both;
- warm:    a rebuild with nothing changed (launchpack: same CACHE_DIR, a fresh BUILD_DIR as on
           Heroku; warpdrive: the same project venv and pip cache);
- +1 pkg:  a warm rebuild after adding one small package (six) to requirements.txt.

warpdrive builds locally the way its docs describe: a project venv (made with virtualenv, as
`warpdrive activate` does) and `warpdrive build` run with WARPDRIVE_APP_ROOT/SRC_ROOT pointing at
it and WARPDRIVE_ENV_NAME set (which keeps pip's cache). Both sides install gunicorn as the server
(WARPDRIVE_SERVER_TYPE / LAUNCHPACK_SERVER): both defaults, mod_wsgi, would add compiling Apache's
module to the cold build, which measures the compiler rather than the build tool. Both sides
run with a clean environment and no pip config (PIP_CONFIG_FILE=/dev/null), as root, on this machine's stack python3.

Run: `make bench` (or `python -m bench build`); BENCH_RUNS=N sets the pairs per scenario.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "django")
STACK_PYTHON = "/usr/bin/python3"
WARPDRIVE = "warpdrive==0.34.0"
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def timed(command: list[str], env: dict[str, str], cwd: str | None = None) -> float:
    started = time.monotonic()
    result = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed:\n{result.stdout[-3000:]}")
    return elapsed


class Side:
    """A build tool under test, building its own copy of the example in self.app."""

    app: str

    def restore_requirements(self) -> None:
        shutil.copyfile(os.path.join(EXAMPLE, "requirements.txt"), os.path.join(self.app, "requirements.txt"))

    def add_package(self, requirement: str) -> None:
        with open(os.path.join(self.app, "requirements.txt"), "a", encoding="utf-8") as handle:
            handle.write(requirement + "\n")


class LaunchpackLocal(Side):
    """`launchpack build` in the project (the CLI adapter): its env dir under LAUNCHPACK_HOME."""

    name = "launchpack build"

    def __init__(self, work: str):
        self.work = work
        self.home = os.path.join(work, "launchpack-home")
        self.app = os.path.join(work, "mysite")
        shutil.copytree(EXAMPLE, self.app)

    def reset(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)
        self.restore_requirements()

    def build(self) -> float:
        # What the `launchpack` console script runs (pip install -e . would put it on PATH).
        env = {"PATH": CLEAN_PATH, "HOME": self.work, "LAUNCHPACK_HOME": self.home, "PIP_CONFIG_FILE": "/dev/null",
               "PYTHONPATH": REPO, "LAUNCHPACK_SERVER": "gunicorn"}
        command = [STACK_PYTHON, "-c", "import sys; from runtime.adapters.cli import main; sys.exit(main(['build']))"]
        return timed(command, env, cwd=self.app)


class Launchpack(Side):
    """Heroku's bin/compile: a fresh BUILD_DIR every build, the environment restored from CACHE_DIR."""

    name = "heroku bin/compile"

    def __init__(self, work: str):
        self.work = work
        self.cache = os.path.join(work, "cache")
        self.app = os.path.join(work, "app")
        shutil.copytree(EXAMPLE, self.app)

    def reset(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)
        os.makedirs(self.cache)
        self.restore_requirements()

    def build(self) -> float:
        build_dir = tempfile.mkdtemp(prefix="build_", dir=self.work)
        os.rmdir(build_dir)
        shutil.copytree(self.app, build_dir)  # Heroku stages a fresh BUILD_DIR every time
        env = {"PATH": CLEAN_PATH, "HOME": self.work, "STACK": "heroku-24", "PIP_CONFIG_FILE": "/dev/null"}
        compile_ = os.path.join(REPO, "buildpack", "bin", "compile")
        env_dir = os.path.join(self.work, "env-dir")  # the app's config vars, as Heroku writes them
        os.makedirs(env_dir, exist_ok=True)
        with open(os.path.join(env_dir, "LAUNCHPACK_SERVER"), "w", encoding="utf-8") as handle:
            handle.write("gunicorn")
        try:
            return timed([compile_, build_dir, self.cache, env_dir], env)
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)


class Warpdrive(Side):
    name = "warpdrive build"

    def __init__(self, work: str, tool_venv: str):
        self.work = work
        self.tool_venv = tool_venv
        self.app = os.path.join(work, "src")
        self.project = os.path.join(work, "project-env")
        self.pip_cache = os.path.join(work, "pip-cache")
        shutil.copytree(EXAMPLE, self.app)
        self.cold = True

    def reset(self) -> None:
        shutil.rmtree(self.project, ignore_errors=True)
        shutil.rmtree(self.pip_cache, ignore_errors=True)
        self.restore_requirements()
        self.cold = True

    def build(self) -> float:
        tool_bin = os.path.join(self.tool_venv, "bin")
        env = {
            "PATH": f"{self.project}/bin:{tool_bin}:{CLEAN_PATH}",
            "HOME": self.work,
            "PIP_CONFIG_FILE": "/dev/null",
            "PIP_CACHE_DIR": self.pip_cache,
            "VIRTUALENV_OVERRIDE_APP_DATA": os.path.join(self.work, "virtualenv-app-data"),
            "WARPDRIVE_VERSION": "0.34.0",
            "WARPDRIVE_ENV_NAME": "bench",
            "WARPDRIVE_APP_ROOT": self.project,
            "WARPDRIVE_SRC_ROOT": self.app,
            "WARPDRIVE_SERVER_TYPE": "gunicorn",
        }
        elapsed = 0.0
        if self.cold:  # the project env is part of a cold build, as `warpdrive activate` makes it
            elapsed += timed(
                [os.path.join(tool_bin, "virtualenv"), "--quiet", "--python", STACK_PYTHON, self.project], env
            )
            os.makedirs(os.path.join(self.project, "tmp"), exist_ok=True)
            self.cold = False
        return elapsed + timed([os.path.join(tool_bin, "warpdrive"), "build"], env, cwd=self.app)


def warpdrive_tool(work: str) -> str:
    venv = os.path.join(work, "warpdrive-tool")
    subprocess.run([STACK_PYTHON, "-m", "venv", venv], check=True)
    env = {"PATH": CLEAN_PATH, "HOME": work, "PIP_CONFIG_FILE": "/dev/null"}
    subprocess.run(
        [
            os.path.join(venv, "bin", "pip"),
            "install",
            "--quiet",
            "--disable-pip-version-check",
            WARPDRIVE,
            "virtualenv",
        ],
        check=True,
        env=env,
    )
    return venv


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} CPUs"


def report(name: str, times: dict[str, list[float]], baseline: str) -> None:
    print(f"{name}:", flush=True)
    theirs = statistics.median(times[baseline])
    for side, values in times.items():
        median = statistics.median(values)
        ratio = "" if side == baseline else f"  {median / theirs:5.2f}x {baseline}"
        runs = " ".join(f"{t:.2f}" for t in values)
        print(f"    {side:<20} {median:6.2f}s{ratio:<24} (runs: {runs})", flush=True)


def main() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    work = tempfile.mkdtemp(prefix="launchpack-bench-")
    try:
        print(f"examples/django, {runs} interleaved runs per scenario; {load()}", flush=True)
        tool = warpdrive_tool(work)
        local = LaunchpackLocal(os.path.join(work, "local"))
        warpdrive = Warpdrive(os.path.join(work, "wd"), tool)
        sides = [local, Launchpack(os.path.join(work, "lp")), warpdrive]
        cold: dict[str, list[float]] = {s.name: [] for s in sides}
        warm: dict[str, list[float]] = {s.name: [] for s in sides}
        added: dict[str, list[float]] = {s.name: [] for s in sides}
        for run in range(runs):
            order = sides[run % len(sides):] + sides[: run % len(sides)]  # rotate who goes first
            for side in order:
                side.reset()
                cold[side.name].append(side.build())
            for side in order:
                warm[side.name].append(side.build())
            for side in order:
                side.add_package("six")
                added[side.name].append(side.build())
        report("cold (empty caches)", cold, warpdrive.name)
        report("warm, nothing changed", warm, warpdrive.name)
        report("warm, +1 small package", added, warpdrive.name)
        warm_s = statistics.median(warm[local.name])
        warm_ratio = warm_s / statistics.median(warm[warpdrive.name])
        cold_ratio = statistics.median(cold[local.name]) / statistics.median(cold[warpdrive.name])
        print(
            f"targets (launchpack build vs warpdrive build, both with a local project env): warm unchanged"
            f" <= 0.2x and <= 1.5s (now {warm_ratio:.2f}x, {warm_s:.2f}s); cold <= 0.7x (now {cold_ratio:.2f}x)"
        )
        print(f"after: {load()}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
    sys.exit(0)
