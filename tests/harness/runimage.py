"""The run image: what a dyno or container has, as opposed to the build image.

heroku-24's run image has no system Python ("build-only tools (gcc, make, git, system Python)
exist only in the build image"), and neither do typical CNB run images. Our harnesses run dynos
and containers on the build machine, so they hide its Python in the dyno's private mount
namespace: anything the app needs at run time must come with the slug or layers.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

# Shell statements run as root inside the dyno's/container's mount namespace.
HIDE_STACK_PYTHON = (
    'for p in /usr/lib/python3*; do if [ -d "$p" ]; then mount -t tmpfs -o size=64k,mode=755 tmpfs "$p" || exit 1; fi; done; '
    'for p in /usr/bin/python3* /usr/local/bin/python3*; do if [ -e "$p" ]; then mount --bind /dev/null "$p" || exit 1; fi; done'
)


def tool_python() -> str:
    """A private copy of the machine's Python for harness tools that run inside a run image (the
    CNB launcher stand-in, which the lifecycle ships as its own binary, not the image's Python).
    Returns the copy's executable; the copy lives outside /usr, so hiding the stack's Python
    does not hide it."""
    target = os.path.join(tempfile.gettempdir(), "launchpack-tool-python")
    executable = os.path.join(target, "bin", "python3")
    if os.path.exists(executable):
        return executable
    real = os.path.realpath("/usr/bin/python3")
    stdlib = subprocess.run([real, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['stdlib'])"],
                            capture_output=True, text=True, check=True).stdout.strip()
    staging = tempfile.mkdtemp(prefix="launchpack-tool-python-", dir=tempfile.gettempdir())
    os.makedirs(os.path.join(staging, "bin"))
    shutil.copy2(real, os.path.join(staging, "bin", "python3"))
    shutil.copytree(stdlib, os.path.join(staging, "lib", os.path.basename(stdlib)), symlinks=False,
                    ignore=shutil.ignore_patterns("config-*", "test", "tkinter", "idlelib", "sitecustomize.py"))
    subprocess.run(["chmod", "-R", "a+rX", staging], check=True)
    os.chmod(staging, 0o755)
    try:
        os.rename(staging, target)  # atomic: parallel test workers race for it
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return executable


def stack_pythons() -> list[str]:
    return sorted(glob.glob("/usr/bin/python3*") + glob.glob("/usr/local/bin/python3*"))
