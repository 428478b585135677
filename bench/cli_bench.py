"""`launchpack build` on a developer's machine, against doing the same by hand, in the same run.

Builds a copy of examples/django with a scratch LAUNCHPACK_HOME (empty cache), then again with
nothing changed, then after adding one small package. The baseline is what a developer does by
hand for the same result: a venv, `pip install -r requirements.txt gunicorn whitenoise`, and, to
bring it up to date later, the same pip command again (pip then checks the index and finds
everything satisfied). Prints seconds and ratios (launchpack / by hand; below 1 is faster).
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
STACK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
REPEATS = 5


def timed(command: list[str], cwd: str, env: dict[str, str]) -> float:
    started = time.monotonic()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="launchpack-cli-bench-") as tmp:
        app = os.path.join(tmp, "mysite")
        shutil.copytree(os.path.join(REPO, "examples", "django"), app)
        os.makedirs(os.path.join(tmp, "home"))
        env = {
            "PATH": STACK_PATH,
            "HOME": os.path.join(tmp, "home"),
            "LAUNCHPACK_HOME": os.path.join(tmp, "launchpack"),
            "PIP_CONFIG_FILE": "/dev/null",
            "PYTHONPATH": REPO,  # the CLI from this checkout (the build scrubs PYTHONPATH for its own processes)
            "LANG": "C.UTF-8",
        }
        build = [sys.executable, "-m", "runtime.adapters.cli", "build", "--quiet"]

        hand = os.path.join(tmp, "by-hand")
        pip = [os.path.join(hand, "bin", "pip"), "install", "--disable-pip-version-check", "--no-cache-dir", "-q"]
        pip += ["-r", "requirements.txt", "gunicorn", "whitenoise"]

        lp_cold = timed(build, app, env)
        hand_cold = timed(["/usr/bin/python3", "-m", "venv", hand], app, env) + timed(pip, app, env)
        lp_same = statistics.median(timed(build, app, env) for _ in range(REPEATS))
        hand_same = statistics.median(timed(pip, app, env) for _ in range(REPEATS))
        with open(os.path.join(app, "requirements.txt"), "a") as handle:
            handle.write("six\n")
        lp_added = timed(build, app, env)
        hand_added = timed(pip, app, env)

    rows = [
        ("cold build (empty caches)", lp_cold, hand_cold),
        (f"rebuild, nothing changed (median of {REPEATS})", lp_same, hand_same),
        ("rebuild after adding one package", lp_added, hand_added),
    ]
    print(f"{'':48} {'launchpack':>10} {'by hand':>10} {'ratio':>7}")
    for label, ours, theirs in rows:
        print(f"{label:48} {ours:9.2f}s {theirs:9.2f}s {ours / theirs:7.2f}")
    print("(launchpack also runs collectstatic and writes env.sh/Procfile; the by-hand baseline does neither)")


if __name__ == "__main__":
    main()
