"""Entry point for buildpack/bin/*: argument checks and the one place errors become exit codes.

A LaunchpackError (a failure the user can fix) is printed in Heroku's error style and exits 1.
Anything else is a bug in launchpack and is reported as one, with its traceback.

bin/detect serves two contracts at one path: Heroku's (`bin/detect BUILD_DIR`) and, when the
CNB lifecycle runs it (CNB_* variables set), Cloud Native Buildpacks' (the app is the working
directory; exit 100 means "not detected", any other non-zero status is an error).
"""

from __future__ import annotations

import os
import sys
import traceback

from runtime import errors, faults, redaction
from runtime.adapters import cnb, heroku
from runtime.output import Output

USAGE = {
    "detect": "bin/detect BUILD_DIR",
    "compile": "bin/compile BUILD_DIR CACHE_DIR ENV_DIR",
    "release": "bin/release BUILD_DIR",
    "cnb-detect": "bin/detect [PLATFORM_DIR PLAN_PATH]  (Cloud Native Buildpacks; the app is the working directory)",
    "build": "bin/build [LAYERS_DIR PLATFORM_DIR PLAN_PATH]  (Cloud Native Buildpacks; inputs in CNB_* variables)",
}
ARGS = {"detect": (1, 1), "compile": (2, 3), "release": (1, 1), "cnb-detect": (0, 2), "build": (0, 3)}
USAGE_EXIT = 2


def _arg(args: list[str], index: int, variable: str) -> str | None:
    """A CNB input: the environment variable (Buildpack API >= 0.8), else the deprecated
    positional argument the lifecycle still passes."""
    return os.environ.get(variable) or (args[index] if len(args) > index else None)


def dispatch(command: str, args: list[str]) -> int:
    if command == "detect":
        return heroku.detect(args[0])
    if command == "compile":
        return heroku.compile(args[0], args[1], args[2] if len(args) > 2 else None)
    if command == "release":
        return heroku.release(args[0])
    if command == "cnb-detect":
        return cnb.detect(os.getcwd())
    if command == "build":
        return cnb.build(os.getcwd(), _arg(args, 0, "CNB_LAYERS_DIR"), _arg(args, 1, "CNB_PLATFORM_DIR"))
    raise AssertionError(command)


def main(argv: list[str]) -> int:
    redaction.install()  # before anything is printed, tracebacks included
    if not argv or argv[0] not in USAGE:
        sys.stderr.write("usage: " + " | ".join(USAGE.values()) + "\n")
        return USAGE_EXIT
    command, args = argv[0], argv[1:]
    if command == "detect" and cnb.is_cnb(os.environ):
        command = "cnb-detect"
    low, high = ARGS[command]
    if not low <= len(args) <= high or (command == "build" and not _arg(args, 0, "CNB_LAYERS_DIR")):
        sys.stderr.write(f"usage: {USAGE[command]}\n")
        return USAGE_EXIT
    # Build output goes to stdout (the platform streams it); detect/release keep stdout for data.
    out = Output(sys.stdout if command in ("compile", "build") else sys.stderr)
    try:
        return dispatch(command, args)
    except errors.LaunchpackError as exc:
        out.error(exc.render())
        return 1
    except OSError as exc:  # a full disk, a path that cannot be read or written: the machine's fault
        out.error(faults.as_error(exc).render())
        return 1
    except KeyboardInterrupt:
        out.error(["Interrupted"])
        return 130
    except Exception:  # noqa: BLE001 - the one place a bug becomes a report
        out.error(["Internal error in launchpack: this is a bug, please report it with the traceback below."])
        traceback.print_exc()
        return 70
