"""Apps written for warpdrive: their `.warpdrive/` files, used where launchpack's own are absent.

warpdrive (launchpack's ancestor) keeps an app's hooks and server settings under `.warpdrive/`.
launchpack reads the ones it has an equivalent for, as fallbacks: launchpack's own file always
wins, and the build says which warpdrive file it used. The warpdrive files it has no equivalent
for are named in the build with what to do instead, never ignored silently.

Pure: only looks at which files exist (the callers read them and report).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DIR = ".warpdrive"
HOOKS_DIR = ".warpdrive/action_hooks"
SERVER_TYPE = ".warpdrive/server_type"
SERVER_ARGS = ".warpdrive/server_args"

# launchpack's hook name -> warpdrive's hooks that stand for it, the first present one wins.
# warpdrive's pre-build runs before pip, as bin/pre_compile does (it was also spelt pre_build).
HOOKS = {
    "pre_compile": (f"{HOOKS_DIR}/pre-build", f"{HOOKS_DIR}/pre_build"),
    "build": (f"{HOOKS_DIR}/build",),
    "deploy": (f"{HOOKS_DIR}/deploy",),
    "setup": (f"{HOOKS_DIR}/setup",),
    "migrate": (f"{HOOKS_DIR}/migrate",),
}

# warpdrive files launchpack has no equivalent for -> what to do instead.
UNSUPPORTED = {
    f"{DIR}/environment": (
        "set these variables as config vars (heroku config:set, pack build --env, or .env for the launchpack command)"
    ),
    f"{DIR}/deploy_mode": (
        "launchpack detects the app type (README: App types); for full control of the server set"
        " LAUNCHPACK_SERVER_MODE=minimal and put the options in .launchpack/server_args, or add a Procfile web: line"
    ),
    f"{DIR}/home": "deploy the app's own directory (launchpack builds the root of what it is given)",
    f"{DIR}/builder_image": "choose the builder with pack build --builder",
    f"{DIR}/wheelhouse": "list the packages in requirements.txt (a --find-links line there works too)",
    f"{DIR}/packages": "nothing to do: launchpack keeps its own cache of downloaded and built wheels",
    f"{HOOKS_DIR}/build-env": "set build settings as config vars",
    f"{HOOKS_DIR}/deploy-env": "set these variables as config vars",
    f"{HOOKS_DIR}/deploy-cfg": "do it in .launchpack/action_hooks/deploy (run before every start)",
    f"{HOOKS_DIR}/install": "use bin/pre_compile (run before dependencies are installed)",
    f"{HOOKS_DIR}/verify": "use the platform's health checks",
    f"{HOOKS_DIR}/ready": "use the platform's readiness check",
    f"{HOOKS_DIR}/alive": "use the platform's liveness check",
}


@dataclass(frozen=True)
class Fallback:
    used: str  # the warpdrive file read
    ours: str  # launchpack's file it stands for

    @property
    def message(self) -> str:
        return f"Using {self.used} (warpdrive's file; {self.ours} is launchpack's)"


def _exists(app_dir: str, path: str) -> bool:
    return os.path.lexists(os.path.join(app_dir, path))


def hooks(app_dir: str, ours: dict[str, str]) -> dict[str, str]:
    """Hook name -> the file to run, for the hooks present: launchpack's own, else warpdrive's."""
    found = {}
    for name, path in ours.items():
        if _exists(app_dir, path):
            found[name] = path
            continue
        for candidate in HOOKS.get(name, ()):
            if _exists(app_dir, candidate):
                found[name] = candidate
                break
    return found


def hook_path(app_dir: str, name: str, ours: str) -> str:
    """The file that runs as hook `name` (launchpack's path when neither is present)."""
    return hooks(app_dir, {name: ours}).get(name, ours)


def server_file(app_dir: str, ours: str) -> str | None:
    """The file naming the server: launchpack's, else warpdrive's server_type, else None."""
    for path in (ours, SERVER_TYPE):
        if os.path.isfile(os.path.join(app_dir, path)):
            return path
    return None


def server_args_file(app_dir: str, ours: str, target: str | None) -> str | None:
    """The extra server arguments' file: launchpack's, else warpdrive's server_args, which may
    be a directory of files named after the server (mod_wsgi, gunicorn, uwsgi, waitress, or
    python and shell for app.py and app.sh): target is that name."""
    if _exists(app_dir, ours):
        return ours
    if os.path.isdir(os.path.join(app_dir, SERVER_ARGS)):
        path = f"{SERVER_ARGS}/{target}" if target else None
        return path if path and os.path.isfile(os.path.join(app_dir, path)) else None
    return SERVER_ARGS if os.path.isfile(os.path.join(app_dir, SERVER_ARGS)) else None


def server_args_target(kind: str, server: str, serves_wsgi: bool) -> str | None:
    """The per-server name under .warpdrive/server_args/ for an app's web process."""
    if serves_wsgi:
        return server
    return {"python": "python", "shell": "shell"}.get(kind)


def unsupported(app_dir: str) -> list[tuple[str, str]]:
    """(path, what to do instead) for each warpdrive file present that launchpack does not use."""
    return [(path, advice) for path, advice in UNSUPPORTED.items() if _exists(app_dir, path)]


def fallbacks(
    hook_paths: dict[str, str],
    ours: dict[str, str],
    server_source: str,
    server_file_ours: str,
    args_file: str | None,
    args_ours: str,
) -> list[Fallback]:
    """The warpdrive files a build uses, each with launchpack's file it stands for."""
    used = [Fallback(path, ours[name]) for name, path in hook_paths.items() if path.startswith(DIR + "/")]
    if server_source == SERVER_TYPE:
        used.append(Fallback(SERVER_TYPE, server_file_ours))
    if args_file and args_file.startswith(DIR + "/"):
        used.append(Fallback(args_file, args_ours))
    return used
