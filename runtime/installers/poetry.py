"""Installing a poetry.lock with Poetry: `poetry sync --only main` into the app's environment.

Poetry runs from its own venv in the cache and installs into the environment named by
VIRTUAL_ENV (the app's), so neither Poetry nor its dependencies reach the slug. Only the main
group is installed; `sync` also removes anything the lock does not list.
"""

from __future__ import annotations

from collections.abc import Mapping

from runtime import errors
from runtime.installers import tools
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter

OUTDATED_LOCK = "changed significantly since poetry.lock was last generated"


def sync(interpreter: Interpreter, layout: Layout, env: Mapping[str, str], out: Output) -> None:
    venv = tools.python_tool("poetry", interpreter, layout, env, out)
    command = [
        *tools.module_command(venv, "poetry"),
        "sync",
        "--only",
        "main",
        "--no-interaction",
        "--no-ansi",
        *(["--compile"] if layout.compile_bytecode else []),
    ]
    poetry_env = {
        **tools.tool_environment(env),
        "VIRTUAL_ENV": layout.venv_dir,
        "POETRY_CACHE_DIR": layout.cache("launchpack", "poetry-cache") or tools.root(layout) + "/poetry-cache",
        "POETRY_VIRTUALENVS_CREATE": "false",
        "POETRY_NO_INTERACTION": "1",
    }
    code, output = out.stream(command, cwd=layout.app_dir, env=poetry_env)
    if code != 0 and OUTDATED_LOCK in output:
        raise errors.LockFileOutdated(
            lock="poetry.lock", manifest="pyproject.toml", tool="Poetry", command="poetry lock"
        )
    if code != 0:
        raise errors.DependencyInstallFailed(source="poetry.lock", installer="poetry sync", code=code)
