"""WSGI servers: what each needs installed and the command that starts it.

Each server module provides ``REQUIREMENTS`` (distribution name -> requirement to install when
the app does not already have it) and ``web_command(web: WebApp) -> str``. Commands are POSIX
shell (they run under Heroku's ``bash -c`` and honcho's ``/bin/sh -c`` alike) and read the
start-time settings $PORT, $WEB_CONCURRENCY and $LAUNCHPACK_THREADS from the environment that
env.sh sets up.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

# Every server launchpack can configure; each is a module in this package.
NAMES = ("gunicorn",)
DEFAULT = "gunicorn"


def get(name: str) -> ModuleType:
    """The module for a server (its REQUIREMENTS and web_command)."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"runtime.servers.{name}")


@dataclass(frozen=True)
class WebApp:
    """What the web process serves, as the build worked it out."""

    wsgi_app: str  # the app's own "module:callable"
    static_url: str | None = None
    static_root: str | None = None  # absolute at build time; servers needing it at run time get it from env
    whitenoise: bool = False  # wrap the app in WhiteNoise (launchpack_wsgi) to serve static files

    @property
    def entry_point(self) -> str:
        """The callable the server loads: ours (which wraps theirs) when static files need serving."""
        return "launchpack_wsgi:application" if self.whitenoise else self.wsgi_app
