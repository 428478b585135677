"""Runs inside the app's environment at build time: loads the Django settings, writes JSON.

Invoked as ``<app venv>/bin/python django_probe.py RESULT.json [check]`` from the app dir, with the
config vars and DJANGO_SETTINGS_MODULE set. It reports the settings the build needs (static
files, WSGI application) or, with ``check``, runs Django's system checks (``manage.py check``:
models, URLconf, templates, ...) and reports their errors and warnings in Django's words. If
something fails to load, it reports the user's error located in the user's file, without this
script's own frames: the user should see their mistake, not our traceback. The result goes to a
file, because settings modules may print to stdout.
"""

import json
import os
import sys
import traceback

# This script's directory holds launchpack's own django.py: it must not shadow the real Django.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
# Files under these are launchpack's (its runtime dir, the interpreter it copied), not the user's.
NOT_USER = (os.sep + "site-packages" + os.sep, os.sep + ".launchpack-runtime" + os.sep)


def user_frames(exc: BaseException, app_dir: str) -> list[traceback.FrameSummary]:
    """The frames that point into the app (not Django, not launchpack, not importlib's)."""
    frames = []
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.startswith("<"):  # <frozen importlib._bootstrap> and the like
            continue
        path = os.path.abspath(frame.filename)
        if path.startswith(app_dir + os.sep) and not any(part in path for part in NOT_USER):
            frames.append(frame)
    return frames


def describe_error(exc: BaseException, app_dir: str) -> dict:
    where = None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{os.path.relpath(os.path.abspath(exc.filename), app_dir)}, line {exc.lineno}"
    frames = user_frames(exc, app_dir)
    if where is None and frames:
        where = f"{os.path.relpath(os.path.abspath(frames[-1].filename), app_dir)}, line {frames[-1].lineno}"
    lines = []
    for frame in frames:
        path = os.path.relpath(os.path.abspath(frame.filename), app_dir)
        lines.append(f'  File "{path}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"error": summary, "where": where, "frames": lines}


def run_checks() -> dict:
    """Django's system checks, as `manage.py check` runs them (errors fail, warnings are shown)."""
    import io

    import django
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    django.setup()
    from django.db import connections

    # Each database's backend (its driver: psycopg for PostgreSQL), loaded without connecting:
    # `check` does not load it, and a missing driver would otherwise fail every request.
    for alias in connections:
        connections[alias]  # noqa: B018 - creating the wrapper imports the backend
    shown = io.StringIO()
    try:
        call_command("check", stdout=shown, stderr=shown)
    except SystemCheckError as exc:
        return {"ok": False, "check_failed": True, "error": str(exc).strip()}
    text = shown.getvalue().strip()
    return {"ok": True, "warnings": "" if "no issues" in text and "WARNINGS" not in text else text}


def main() -> int:
    app_dir = os.path.abspath(os.getcwd())
    sys.path.insert(0, app_dir)
    if sys.argv[2:] == ["check"]:
        try:
            result = run_checks()
        except Exception as exc:  # noqa: BLE001 - a URLconf that does not import, and the like
            result = {"ok": False, **describe_error(exc, app_dir)}
        with open(sys.argv[1], "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return 0
    try:
        import django
        from django.conf import settings

        django.setup()
        installed = list(settings.INSTALLED_APPS)
        result = {
            "ok": True,
            "django_version": django.get_version(),
            "settings_module": settings.SETTINGS_MODULE,
            "static_url": settings.STATIC_URL,
            "static_root": str(settings.STATIC_ROOT) if settings.STATIC_ROOT else None,
            "staticfiles_installed": "django.contrib.staticfiles" in installed
            or any(app.startswith("django.contrib.staticfiles") for app in installed),
            "wsgi_application": getattr(settings, "WSGI_APPLICATION", None),
            "whitenoise_middleware": any("whitenoise" in m.lower() for m in (settings.MIDDLEWARE or [])),
            "debug": bool(settings.DEBUG),
        }
    except Exception as exc:  # noqa: BLE001 - any failure in user settings is reported, not raised
        result = {"ok": False, **describe_error(exc, app_dir)}
    with open(sys.argv[1], "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
