"""The process types launchpack generates for an app (pure).

One generator for every platform: the Procfile, bin/release's default_process_types and CNB's
launch.toml are all renderings of what ``generate`` returns.
"""

from __future__ import annotations

from procfile_gen import ProcessType
from runtime import servers
from runtime.appinfo import AppInfo
from runtime.servers import WebApp, join


def web_command(info: AppInfo, web: WebApp | None) -> str | None:
    """The web process's command (after env.sh), or None when launchpack does not run it."""
    if info.user_web:
        return None
    if info.kind == "shell":  # app.sh must exec its server, so that the server gets SIGTERM
        return join(["exec ./app.sh", info.server_args])
    if info.kind == "python":  # app.py listens on $PORT itself
        return join(["exec python app.py", info.server_args])
    if web is not None and info.serves_wsgi:
        return servers.get(info.server).web_command(web)
    return None


def generate(info: AppInfo, web: WebApp | None, env_prefix: str) -> list[ProcessType]:
    processes = []
    command = web_command(info, web)
    if command is not None:
        processes.append(ProcessType("web", env_prefix + command))
    if "migrate" in info.hooks:
        # launchpack_release (honcho-aware) is a function env.sh defines: without the env.sh
        # prefix (CNB, where the platform sets up the environment) the hook simply runs.
        runner = "launchpack_release " if env_prefix else "exec "
        processes.append(ProcessType("release", env_prefix + runner + "./" + info.hooks["migrate"]))
    return processes
