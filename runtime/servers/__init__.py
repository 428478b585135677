"""WSGI servers: what each needs installed and the command that starts it.

Each server module provides:

- ``REQUIREMENTS``: distribution name -> requirement to install when the app lacks it;
- ``SERVES_STATIC``: whether the server itself serves static files (else WhiteNoise does);
- ``web_command(web: WebApp) -> str``: the command, a pure function of the WebApp.

Commands are POSIX shell (they run under Heroku's ``bash -c`` and honcho's ``/bin/sh -c``
alike) and read the start-time settings from the environment env.sh sets up: $PORT,
$WEB_CONCURRENCY, $LAUNCHPACK_THREADS, $LAUNCHPACK_RELOAD ("1" or empty),
$LAUNCHPACK_APP_DIR and $LAUNCHPACK_RUNTIME_DIR (absolute where the app runs). Nothing in a
command refers to where the app was built.

Every command: binds $PORT on all interfaces, logs to stdout/stderr, finishes in-flight
requests and exits within 30 s of SIGTERM, and reloads on code changes when
$LAUNCHPACK_RELOAD is set. In minimal mode only that (plus .launchpack/server_args) is
passed; the rest comes from the server's own configuration file.
"""

from __future__ import annotations

import importlib
import re
import shlex
from dataclasses import dataclass
from types import ModuleType

from runtime.slug import launchpack_target

# Every server launchpack can configure; each is a module in this package.
NAMES = ("mod_wsgi", "gunicorn", "uwsgi", "waitress")
# What `auto` means when mod_wsgi can be built; the fallback when it cannot.
DEFAULT = "mod_wsgi"
FALLBACK = "gunicorn"
MODES = ("auto", "minimal")
# Heroku sends SIGKILL 30 s after SIGTERM: in-flight requests get this long to finish.
GRACE_SECONDS = 25
# The app kinds a WSGI server serves (app.sh and app.py start their own server).
WSGI_KINDS = ("django", "wsgi", "paste")
PASTE_REQUIREMENTS = {"pastedeploy": "PasteDeploy"}
# Added after the app's own dependencies only when they did not install it (so that a version the
# app asks for is never contradicted): pkg_resources (setuptools before 82, which new environments
# lack) for the PasteDeploy and Pyramid releases that still import it.
PASTE_FALLBACKS = {"setuptools": "setuptools<82"}
# The module:object every server can load when the app's own cannot be loaded directly.
LOADER = "launchpack_wsgi:application"


def get(name: str) -> ModuleType:
    """The module for a server (its REQUIREMENTS, SERVES_STATIC and web_command)."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"runtime.servers.{name}")


def requirements(kind: str, server: str, serves_web: bool = True) -> dict[str, str]:
    """What the build adds to the app's environment for its web process (dist -> requirement)."""
    if not serves_web or kind not in WSGI_KINDS:
        return {}
    needed = dict(get(server).REQUIREMENTS)
    if kind == "paste":
        needed.update(PASTE_REQUIREMENTS)
    return needed


def fallbacks(kind: str, serves_web: bool = True) -> dict[str, str]:
    """What the build adds only if the app's dependencies did not install it (dist -> requirement)."""
    return dict(PASTE_FALLBACKS) if serves_web and kind == "paste" else {}


@dataclass(frozen=True)
class WebApp:
    """What the web process serves, as the build worked it out (pure data)."""

    wsgi_app: str | None  # the app's own "module:callable"; None for paste apps and bare minimal mode
    static_url: str | None = None
    static_root: str | None = None  # relative to the app dir (it moves between build and run), or absolute
    serve_static: bool = False  # launchpack must serve the static files (the app does not)
    paste_ini: str | None = None  # a PasteDeploy config file, relative to the app dir
    mode: str = "auto"  # "auto" | "minimal"
    server_args: str = ""  # .launchpack/server_args, appended as written (shell words)

    @property
    def minimal(self) -> bool:
        return self.mode == "minimal"

    @property
    def has_static(self) -> bool:
        return bool(self.serve_static and self.static_url and self.static_root)

    def entry_point(self, server_serves_static: bool) -> str | None:
        """The "module:callable" a server loads: ours (launchpack_wsgi, which loads theirs) when
        it must add WhiteNoise, load a paste.ini or call a factory (servers other than gunicorn
        take a plain attribute name only), else theirs."""
        if self.paste_ini or (self.has_static and not server_serves_static):
            return LOADER
        if self.wsgi_app and not launchpack_target.parse(self.wsgi_app).plain:
            return LOADER
        return self.wsgi_app


SAFE_PATH = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def run_path(path: str, trailing_slash: bool = False) -> str:
    """A shell word for a path as it is when the app runs: app-relative paths are resolved
    against $LAUNCHPACK_APP_DIR at start (the build dir no longer exists by then)."""
    if trailing_slash and not path.endswith("/"):
        path += "/"
    if path.startswith("/"):
        return shlex.quote(path)
    if not SAFE_PATH.match(path):
        return '"$LAUNCHPACK_APP_DIR"/' + shlex.quote(path)
    return f'"$LAUNCHPACK_APP_DIR/{path}"'


def join(parts: list[str | None]) -> str:
    return " ".join(p for p in parts if p)
