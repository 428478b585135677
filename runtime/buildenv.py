"""The environment of every process the build starts (installers, hooks, framework steps).

It is the platform's environment, plus the user's config vars (minus the deny-list), plus the
app's environment activated exactly as env.sh will activate it at run time, so that a hook or
collectstatic sees at build time what the app will see when it runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime.config import ConfigVars
from runtime.layout import Layout

# Never passed from the platform's environment into the build's processes: they belong to
# whoever started the build (a developer's shell, a CI job), not to the app.
SCRUBBED = ("PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV", "PYTHONSTARTUP", "PIP_USER", "CONDA_PREFIX")


def build_environment(
    platform_env: Mapping[str, str], config: ConfigVars, layout: Layout, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in platform_env.items() if k not in SCRUBBED}
    env.update(config.values)
    venv_bin = os.path.join(layout.venv_dir, "bin")
    env["VIRTUAL_ENV"] = layout.venv_dir
    env["PATH"] = venv_bin + os.pathsep + platform_env.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    env["PYTHONPATH"] = os.pathsep.join([layout.app_dir, layout.python_dir])
    env["LAUNCHPACK_APP_DIR"] = layout.app_dir
    env["LAUNCHPACK_RUNTIME_DIR"] = layout.runtime_dir
    env["LAUNCHPACK_PHASE"] = "build"
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("LANG", "C.UTF-8")
    # Build tools must not write into HOME (read-only or shared on some platforms).
    if layout.cache_dir:
        env.setdefault("XDG_CACHE_HOME", os.path.join(layout.cache_dir, "xdg"))
    env.update(extra or {})
    return env
