"""The WSGI callable launchpack's generated web process serves.

It is the app's own callable (recorded at build time in launch.json, next to this module's
directory; "module:object" or a factory call such as "flaskr:create_app()", gunicorn's syntax)
or the app a paste.ini describes (loaded with PasteDeploy's loadapp, as gunicorn,
uWSGI and waitress have no paste.ini support of their own that we use), wrapped in WhiteNoise
when the app has static files and the server cannot serve them itself (gunicorn, waitress).
The user's code is never edited: this module imports it.

An app that already serves its static files with WhiteNoise (the middleware, or a WhiteNoise
instance as its callable) is not wrapped a second time.
"""

from __future__ import annotations

import json
import os
import re
import sys

import launchpack_target  # beside this module in the runtime dir

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Django's ManifestStaticFilesStorage and WhiteNoise's own storage add a 12-hex-digit hash.
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.\w+$")


def load_launch() -> dict:
    with open(os.path.join(RUNTIME_DIR, "launch.json"), encoding="utf-8") as handle:
        return json.load(handle)


def load_paste(path: str):
    """The app from a PasteDeploy config file, with its [loggers] configuration applied."""
    import configparser
    import logging.config

    from paste.deploy import loadapp

    path = os.path.abspath(path)
    parser = configparser.ConfigParser()
    parser.read(path)
    if parser.has_section("loggers"):
        defaults = {"here": os.path.dirname(path), "__file__": path}
        logging.config.fileConfig(path, defaults, disable_existing_loggers=False)
    return loadapp("config:" + path)


def _log(message: str) -> None:
    sys.stderr.write(f"launchpack: {message}\n")


def django_static():
    """(url, root) from the running settings, or None when WhiteNoise must not wrap the app."""
    from django.conf import settings

    middleware = list(getattr(settings, "MIDDLEWARE", None) or [])
    if any("whitenoise" in m.lower() for m in middleware):
        return None
    url = getattr(settings, "STATIC_URL", None) or ""
    root = getattr(settings, "STATIC_ROOT", None)
    if not url or not root or "://" in url or url.startswith("//"):
        return None  # served from elsewhere (a CDN), or not configured
    return ("/" + url.lstrip("/"), str(root))


def wrap_static(application, url: str, root: str):
    from whitenoise import WhiteNoise

    if isinstance(application, WhiteNoise):
        return application
    if not os.path.isdir(root):
        _log(f"static files directory {root} does not exist; not serving {url}")
        return application
    return WhiteNoise(
        application,
        root=root,
        prefix=url,
        immutable_file_test=lambda path, url: bool(HASHED_NAME.search(url)),
    )


def limit_body(application, limit: int):
    """413 for a request whose declared body is larger than limit (gunicorn has no limit of its
    own, uWSGI's drops the connection unanswered; mod_wsgi and waitress apply the same
    LAUNCHPACK_MAX_REQUEST_BODY themselves)."""

    def limited(environ, start_response):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            body = b"Request body too large\n"
            start_response(
                "413 Request Entity Too Large",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return application(environ, start_response)

    return limited


def build_application():
    launch = load_launch()
    application = build_served(launch)
    if launch.get("server") in ("gunicorn", "uwsgi"):
        return limit_body(application, int(os.environ.get("LAUNCHPACK_MAX_REQUEST_BODY") or 10485760))
    return application


def build_served(launch: dict):
    if launch.get("paste_ini"):
        app_dir = os.environ.get("LAUNCHPACK_APP_DIR") or os.getcwd()
        application = load_paste(os.path.join(app_dir, launch["paste_ini"]))
    else:
        application = launchpack_target.load(launch["wsgi_app"])  # a factory is called here
    static = launch.get("static") or {}
    if launch.get("serve_static") != "whitenoise":
        return application
    if static.get("source") == "django":
        mapping = django_static()
    elif static.get("url") and static.get("root"):
        root = static["root"]
        app_dir = os.environ.get("LAUNCHPACK_APP_DIR") or os.getcwd()
        mapping = (static["url"], root if os.path.isabs(root) else os.path.join(app_dir, root))
    else:
        mapping = None
    return wrap_static(application, *mapping) if mapping else application


application = build_application()
