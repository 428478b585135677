"""The process types launchpack generates for an app (pure).

One generator for every platform: the Procfile, bin/release's default_process_types and CNB's
launch.toml are all renderings of what ``generate`` returns.
"""

from __future__ import annotations

from procfile_gen import ProcessType
from runtime import servers
from runtime.appinfo import RUN_HOOKS, AppInfo
from runtime.servers import WebApp


def generate(info: AppInfo, web: WebApp | None, env_prefix: str) -> list[ProcessType]:
    processes = []
    if web is not None:
        processes.append(ProcessType("web", env_prefix + servers.get(info.server).web_command(web)))
    if "migrate" in info.hooks:
        # launchpack_release (honcho-aware) is a function env.sh defines: without the env.sh
        # prefix (CNB, where the platform sets up the environment) the hook simply runs.
        runner = "launchpack_release " if env_prefix else "exec "
        processes.append(ProcessType("release", env_prefix + runner + "./" + RUN_HOOKS["migrate"]))
    return processes
