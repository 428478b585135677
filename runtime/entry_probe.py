"""Runs inside the app's environment at build time: loads the WSGI entry point, writes JSON.

    <app venv>/bin/python entry_probe.py RESULT.json paste INI
    <app venv>/bin/python entry_probe.py RESULT.json module TARGET
    <app venv>/bin/python entry_probe.py RESULT.json candidates TARGET [TARGET...]

A target is "module:object" in gunicorn's syntax (launchpack_target). Of candidates (app.py's)
the first that is a WSGI callable is chosen, and none may be: the build then runs app.py as a
script. The loaded object's protocol is reported (WSGI, ASGI, or neither), so that
an ASGI app is never handed to a WSGI server. The result goes to a file, since the app may print
while it is imported. On failure it reports the error located in the user's files, without
launchpack's own frames.
"""

import json
import os
import sys
import traceback

# This script's directory is the buildpack's core: it must not shadow the app's modules.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.append(os.path.join(HERE, "slug"))  # launchpack_target, as the web process loads targets
import launchpack_target  # noqa: E402

# Files under these are launchpack's (its runtime dir, the interpreter it copied), not the user's.
NOT_USER = (os.sep + "site-packages" + os.sep, os.sep + ".launchpack-runtime" + os.sep)


def user_frames(exc: BaseException, app_dir: str) -> list[traceback.FrameSummary]:
    """The frames in the app's own files (not the standard library, site-packages or this script)."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap> and the like
            continue
        path = os.path.abspath(frame.filename)
        if path.startswith(app_dir + os.sep) and not any(part in path for part in NOT_USER) and path != __file__:
            frames.append(frame)
    return frames


def describe(frames: list[traceback.FrameSummary], app_dir: str) -> list[str]:
    lines = []
    for frame in frames:
        lines.append(f'  File "{os.path.relpath(frame.filename, app_dir)}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    return lines


def load_paste(path: str):
    from paste.deploy import loadapp

    return loadapp("config:" + os.path.abspath(path))


def choose(targets: list[str]) -> dict:
    """The first target that is a WSGI callable, and what the others are."""
    rejected = []
    for target in targets:
        obj = launchpack_target.load(target)
        kind, what = launchpack_target.protocol(obj), launchpack_target.describe(obj)
        if kind == "wsgi":
            return {"ok": True, "target": target, "protocol": kind, "what": what, "rejected": rejected}
        if kind == "asgi":
            return {"ok": False, "asgi": True, "target": target, "what": what}
        rejected.append({"target": target, "what": what, "protocol": kind})
    return {"ok": True, "target": None, "rejected": rejected}


def main() -> int:
    result_path, kind, *targets = sys.argv[1:]
    app_dir = os.path.abspath(os.getcwd())
    if app_dir not in sys.path:
        sys.path.insert(0, app_dir)
    try:
        if kind == "paste":
            application = load_paste(targets[0])
            if launchpack_target.protocol(application) != "wsgi":
                raise TypeError(f"{targets[0]} loads {launchpack_target.describe(application)}, not a WSGI callable")
            result = {"ok": True, "target": targets[0], "protocol": "wsgi"}
        else:
            result = choose(targets if kind == "candidates" else targets[:1])
            if kind != "candidates" and result.get("ok") and result["target"] is None:
                result = {"ok": False, "not_wsgi": True, **result["rejected"][0]}
    except BaseException as exc:  # noqa: BLE001 - anything the app raises is the app's error to report
        where = None
        if isinstance(exc, SyntaxError) and exc.filename:
            where = f"{os.path.relpath(os.path.abspath(exc.filename), app_dir)}, line {exc.lineno}"
        frames = user_frames(exc, app_dir)
        if where is None and frames:
            where = f"{os.path.relpath(os.path.abspath(frames[-1].filename), app_dir)}, line {frames[-1].lineno}"
        summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result = {"ok": False, "error": summary, "where": where, "frames": describe(frames, app_dir)}
        if isinstance(exc, ImportError) and exc.name == "pkg_resources":
            result["pkg_resources"] = True
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
