"""Runs inside the app's environment at build time: loads the Django settings, prints JSON.

Invoked as ``<app venv>/bin/python django_probe.py RESULT.json`` from the app dir, with the config vars and
DJANGO_SETTINGS_MODULE set. It reports the settings the build needs (static files, WSGI
application) or, if the settings fail to load, the user's error located in the user's file,
without this script's own frames: the user should see their mistake, not our traceback.
The result goes to a file, because settings modules may print to stdout.
"""

import json
import os
import sys
import traceback

# This script's directory holds launchpack's own django.py: it must not shadow the real Django.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]


def user_frames(exc: BaseException, app_dir: str) -> list[str]:
    """The traceback lines that point into the app (not Django, not this script)."""
    lines = []
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path.startswith(app_dir + os.sep) and os.sep + "site-packages" + os.sep not in path:
            lines.append(f'  File "{os.path.relpath(path, app_dir)}", line {frame.lineno}, in {frame.name}')
            if frame.line:
                lines.append(f"    {frame.line}")
    return lines


def describe_error(exc: BaseException, app_dir: str) -> dict:
    where = None
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{os.path.relpath(os.path.abspath(exc.filename), app_dir)}, line {exc.lineno}"
    frames = user_frames(exc, app_dir)
    if where is None and frames:
        where = frames[-2 if len(frames) > 1 and frames[-1].startswith("    ") else -1].strip()
    summary = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return {"error": summary, "where": where, "frames": frames}


def main() -> int:
    app_dir = os.path.abspath(os.getcwd())
    sys.path.insert(0, app_dir)
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
