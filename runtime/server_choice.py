"""Which WSGI server the generated web process runs, decided at build time.

The request comes from ``.launchpack/server`` (a one-word file, which wins) or the
LAUNCHPACK_SERVER config var, default ``auto``. ``auto`` means mod_wsgi, as in warpdrive,
when it can be built on this stack, else gunicorn (and the build says why). A server named
explicitly is used as is; asking for mod_wsgi where it cannot be built is an error rather
than a silent substitution.

``read_request`` and ``decide`` are pure; ``mod_wsgi_problem`` only checks that files exist.
Other adapters (the CLI's ``--server``) build a ServerRequest of their own and call ``decide``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

from runtime import appfiles, errors, servers, warpdrive
from runtime.config import ConfigVars

AUTO = "auto"
SERVER_FILE = ".launchpack/server"
CONFIG_VAR = "LAUNCHPACK_SERVER"


@dataclass(frozen=True)
class ServerRequest:
    name: str  # "auto" or one of servers.NAMES
    source: str  # where it came from, for messages


@dataclass(frozen=True)
class Choice:
    server: str
    message: str  # one line for the build output
    fell_back: bool = False


def valid_names() -> str:
    return ", ".join((AUTO, *servers.NAMES))


def read_request(app_dir: str, config: ConfigVars) -> ServerRequest:
    path = warpdrive.server_file(app_dir, SERVER_FILE)  # .warpdrive/server_type when ours is absent
    text = appfiles.read_text(app_dir, path) if path else None
    if text is not None:
        words = [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]
        if len(words) != 1:
            raise errors.ServerFileInvalid(path=path, found=" ".join(words) or "nothing", valid=valid_names())
        request = ServerRequest(words[0].lower(), path)
    else:
        value = (config.get(CONFIG_VAR) or "").strip().lower()
        request = ServerRequest(value, f"the config var {CONFIG_VAR}") if value else ServerRequest(AUTO, "the default")
    name = request.name.replace("-", "_")
    if name not in (AUTO, *servers.NAMES):
        raise errors.UnknownServer(name=request.name, source=request.source, valid=valid_names())
    return ServerRequest(name, request.source)


def wants_bundled_apache(app_dir: str, dependency_files: tuple[str, ...]) -> bool:
    """Whether the app requires mod_wsgi-httpd, which brings its own Apache."""
    for name in dependency_files:
        try:
            with open(os.path.join(app_dir, name), encoding="utf-8", errors="replace") as handle:
                if "mod-wsgi-httpd" in handle.read().lower().replace("_", "-"):
                    return True
        except OSError:
            continue
    return False


def mod_wsgi_problem(search_path: str, bundled_apache: bool = False) -> str | None:
    """Why mod_wsgi cannot be built here (None when it can): it compiles against Apache's
    development files (found through apxs) with a C compiler, unless the app brings its own
    Apache (mod_wsgi-httpd)."""
    if bundled_apache:
        return None
    missing = []
    if not (shutil.which("apxs", path=search_path) or shutil.which("apxs2", path=search_path)):
        missing.append("Apache's development files (apxs; Debian/Ubuntu package apache2-dev)")
    if not (shutil.which("cc", path=search_path) or shutil.which("gcc", path=search_path)):
        missing.append("a C compiler")
    return " and ".join(missing) or None


def decide(request: ServerRequest, mod_wsgi_problem_: str | None) -> Choice:
    if request.name == AUTO:
        if mod_wsgi_problem_ is None:
            return Choice(servers.DEFAULT, f"{servers.DEFAULT} (auto; set {CONFIG_VAR} to choose another)")
        return Choice(
            servers.FALLBACK,
            f"{servers.FALLBACK}: auto prefers {servers.DEFAULT}, but this stack lacks {mod_wsgi_problem_}"
            f" to build it",
            fell_back=True,
        )
    if request.name == "mod_wsgi" and mod_wsgi_problem_ is not None:
        raise errors.ModWsgiUnavailable(source=request.source, problem=mod_wsgi_problem_)
    return Choice(request.name, f"{request.name} (from {request.source})")
