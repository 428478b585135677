"""The unchanged warm rebuild (Heroku's bin/compile on examples/django, a fresh BUILD_DIR, the same
CACHE_DIR) of this checkout against another revision of launchpack, as interleaved runs in the
same invocation, so that load from other processes on the machine hits both sides alike.

A change to what a warm rebuild does (issue 10: every file of the restored environment is checked
against its manifest) is measured against the code before it, not against a number from another
day. Baseline: BENCH_BASE (a git revision; default: the merge base with main). BENCH_RUNS=N sets
the warm rebuilds per side (default 7).

Run: `python -m bench warm_rebuild`. Needs git and this checkout's history.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(REPO, "examples", "django")
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", REPO, *args], capture_output=True, text=True, check=True).stdout.strip()


def export(revision: str, target: str) -> None:
    """The buildpack as it was at revision (its runtime, procfile_gen and buildpack directories)."""
    os.makedirs(target)
    command = ["git", "-C", REPO, "archive", revision, "runtime", "procfile_gen", "buildpack"]
    archive = subprocess.run(command, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", target], input=archive.stdout, check=True)


class Side:
    def __init__(self, name: str, buildpack: str, work: str):
        self.name, self.buildpack, self.work = name, buildpack, work
        self.cache = os.path.join(work, "cache")
        self.env_dir = os.path.join(work, "env-dir")
        os.makedirs(self.cache)
        os.makedirs(self.env_dir)
        with open(os.path.join(self.env_dir, "LAUNCHPACK_SERVER"), "w", encoding="utf-8") as handle:
            handle.write("gunicorn")

    def build(self) -> tuple[float, str]:
        build_dir = tempfile.mkdtemp(prefix="build_", dir=self.work)
        os.rmdir(build_dir)
        shutil.copytree(EXAMPLE, build_dir)  # Heroku stages a fresh BUILD_DIR every time
        env = {"PATH": CLEAN_PATH, "HOME": self.work, "STACK": "heroku-24", "PIP_CONFIG_FILE": "/dev/null"}
        command = [os.path.join(self.buildpack, "buildpack", "bin", "compile"), build_dir, self.cache, self.env_dir]
        started = time.monotonic()
        result = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        elapsed = time.monotonic() - started
        shutil.rmtree(build_dir, ignore_errors=True)
        if result.returncode != 0:
            raise RuntimeError(f"{self.name}: bin/compile failed:\n{result.stdout[-3000:]}")
        return elapsed, result.stdout


def main() -> None:
    runs = int(os.environ.get("BENCH_RUNS", "7"))
    base = os.environ.get("BENCH_BASE") or git("merge-base", "HEAD", "main")
    work = tempfile.mkdtemp(prefix="launchpack-bench-warm-")
    try:
        export(base, os.path.join(work, "base-buildpack"))
        sides = [
            Side(f"base {base[:10]}", os.path.join(work, "base-buildpack"), os.path.join(work, "base")),
            Side("this checkout", REPO, os.path.join(work, "this")),
        ]
        for side in sides:  # the first build fills the cache; a second, in case the first did not reuse
            side.build()
            side.build()
        times: dict[str, list[float]] = {side.name: [] for side in sides}
        for run in range(runs):
            for side in sides if run % 2 == 0 else list(reversed(sides)):
                elapsed, output = side.build()
                if "Reusing the app's Python environment" not in output:
                    raise RuntimeError(f"{side.name}: the warm rebuild did not reuse the environment:\n{output}")
                times[side.name].append(elapsed)
        one, five, _ = os.getloadavg()
        print(f"examples/django, unchanged warm rebuild (heroku bin/compile), {runs} interleaved runs each; "
              f"load {one:.2f} / {five:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
        baseline = statistics.median(times[sides[0].name])
        for side in sides:
            median = statistics.median(times[side.name])
            ratio = "" if side is sides[0] else f"  {median / baseline:5.2f}x base"
            runs_text = " ".join(f"{t:.2f}" for t in times[side.name])
            print(f"    {side.name:<18} {median:6.2f}s{ratio:<14} (runs: {runs_text})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
