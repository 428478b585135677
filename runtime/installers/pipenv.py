"""Installing a Pipfile.lock with Pipenv: `pipenv install --deploy` into the app's environment.

Pipenv runs from its own venv in the cache and installs, with its own bundled pip, into the
environment named by VIRTUAL_ENV (the app's): neither Pipenv nor pip reaches the slug.
`--deploy` refuses a Pipfile.lock that does not match the Pipfile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from runtime import errors
from runtime.installers import tools
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter

OUTDATED_LOCK = re.compile(r"Pipfile\.lock\s.*?\sis\s+out\s+of\s+date", re.S)


def install(interpreter: Interpreter, layout: Layout, env: Mapping[str, str], out: Output) -> None:
    venv = tools.python_tool("pipenv", interpreter, layout, env, out)
    command = [*tools.module_command(venv, "pipenv"), "install", "--deploy"]
    pipenv_env = {
        **tools.tool_environment(env),
        "VIRTUAL_ENV": layout.venv_dir,
        "PIPENV_CACHE_DIR": layout.cache("launchpack", "pipenv-cache") or tools.root(layout) + "/pipenv-cache",
        "PIPENV_VERBOSITY": "-1",
        "PIPENV_NOSPIN": "1",
        "PIPENV_YES": "1",
        "COLUMNS": "160",  # Pipenv wraps its messages to the terminal width
    }
    code, output = out.stream(command, cwd=layout.app_dir, env=pipenv_env)
    if code != 0 and OUTDATED_LOCK.search(output):
        raise errors.LockFileOutdated(lock="Pipfile.lock", manifest="Pipfile", tool="Pipenv", command="pipenv lock")
    if code != 0:
        raise errors.DependencyInstallFailed(source="Pipfile.lock", installer="pipenv install --deploy", code=code)
