"""Runs inside the app's environment at build time: loads the WSGI entry point, writes JSON.

    <app venv>/bin/python entry_probe.py RESULT.json module|paste TARGET

TARGET is "module:callable" or a paste.ini path. The result goes to a file, since the app may
print while it is imported. On failure it reports the error located in the user's files,
without this script's own frames.
"""

import importlib
import json
import os
import sys
import traceback

# This script's directory is the buildpack's core: it must not shadow the app's modules.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]


def user_frames(exc: BaseException, app_dir: str) -> list[traceback.FrameSummary]:
    """The frames in the app's own files (not the standard library, site-packages or this script)."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap> and the like
            continue
        path = os.path.abspath(frame.filename)
        if path.startswith(app_dir + os.sep) and os.sep + "site-packages" + os.sep not in path and path != __file__:
            frames.append(frame)
    return frames


def describe(frames: list[traceback.FrameSummary], app_dir: str) -> list[str]:
    lines = []
    for frame in frames:
        lines.append(f'  File "{os.path.relpath(frame.filename, app_dir)}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    return lines


def load(kind: str, target: str):
    if kind == "paste":
        from paste.deploy import loadapp

        return loadapp("config:" + os.path.abspath(target))
    module_name, _, attribute = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in (attribute or "application").split("."):
        obj = getattr(obj, part)
    return obj


def main() -> int:
    result_path, kind, target = sys.argv[1:4]
    app_dir = os.path.abspath(os.getcwd())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    try:
        application = load(kind, target)
        if not callable(application):
            raise TypeError(f"{target} is a {type(application).__name__}, not a WSGI callable")
        result = {"ok": True}
    except BaseException as exc:  # noqa: BLE001 - anything the app raises is the app's error to report
        where = None
        if isinstance(exc, SyntaxError) and exc.filename:
            where = f"{os.path.relpath(os.path.abspath(exc.filename), app_dir)}, line {exc.lineno}"
        frames = user_frames(exc, app_dir)
        if where is None and frames:
            where = f"{os.path.relpath(os.path.abspath(frames[-1].filename), app_dir)}, line {frames[-1].lineno}"
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result = {"ok": False, "error": summary, "where": where, "frames": describe(frames, app_dir)}
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
