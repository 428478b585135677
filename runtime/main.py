"""Entry point for buildpack/bin/*: argument checks and the one place errors become exit codes.

A LaunchpackError (a failure the user can fix) is printed in Heroku's error style and exits 1.
Anything else is a bug in launchpack and is reported as one, with its traceback.
"""

from __future__ import annotations

import sys
import traceback

from runtime import errors
from runtime.adapters import heroku
from runtime.output import Output

USAGE = {
    "detect": "bin/detect BUILD_DIR",
    "compile": "bin/compile BUILD_DIR CACHE_DIR ENV_DIR",
    "release": "bin/release BUILD_DIR",
}
ARGS = {"detect": (1, 1), "compile": (2, 3), "release": (1, 1)}
USAGE_EXIT = 2


def dispatch(command: str, args: list[str]) -> int:
    if command == "detect":
        return heroku.detect(args[0])
    if command == "compile":
        return heroku.compile(args[0], args[1], args[2] if len(args) > 2 else None)
    if command == "release":
        return heroku.release(args[0])
    raise AssertionError(command)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in USAGE:
        sys.stderr.write("usage: " + " | ".join(USAGE.values()) + "\n")
        return USAGE_EXIT
    command, args = argv[0], argv[1:]
    low, high = ARGS[command]
    if not low <= len(args) <= high:
        sys.stderr.write(f"usage: {USAGE[command]}\n")
        return USAGE_EXIT
    # Build output goes to stdout (the platform streams it); detect/release keep stdout for data.
    out = Output(sys.stdout if command == "compile" else sys.stderr)
    try:
        return dispatch(command, args)
    except errors.LaunchpackError as exc:
        out.error(exc.render())
        return 1
    except KeyboardInterrupt:
        out.error(["Interrupted"])
        return 130
    except Exception:  # noqa: BLE001 - the one place a bug becomes a report
        out.error(["Internal error in launchpack: this is a bug, please report it with the traceback below."])
        traceback.print_exc()
        return 70
