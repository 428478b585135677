"""Compiling requirements.in into pinned requirements with pip-tools (`pip-compile`).

The build uses it when an app has a requirements.in and no requirements.txt, and shows the
pins it resolved; `launchpack lock` uses the same function to write requirements.txt locally,
so that what is deployed can be pinned and reviewed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime import errors
from runtime.installers import tools
from runtime.layout import Layout
from runtime.output import Output
from runtime.python_version import Interpreter


def compile_requirements(
    interpreter: Interpreter,
    source: str,
    output_file: str,
    layout: Layout,
    env: Mapping[str, str],
    out: Output,
) -> list[str]:
    """Resolve `source` (e.g. requirements.in, relative to the app dir) into `output_file`;
    return the pinned requirement lines."""
    venv = tools.python_tool("pip-tools", interpreter, layout, env, out)
    os.makedirs(os.path.dirname(os.path.abspath(output_file)), exist_ok=True)
    command = [
        *tools.module_command(venv, "pip-tools"), "compile", "--quiet", "--strip-extras", "--no-emit-index-url",
        "--output-file", output_file, source,
    ]  # fmt: skip
    compile_env = {
        **tools.tool_environment(env),
        "PIP_CACHE_DIR": layout.cache("launchpack", "pip-cache") or tools.root(layout) + "/pip-cache",
        "CUSTOM_COMPILE_COMMAND": "launchpack lock",
    }
    code, _ = out.stream(command, cwd=layout.app_dir, env=compile_env)
    if code != 0:
        raise errors.RequirementsCompileFailed(code=code)
    with open(output_file, encoding="utf-8") as handle:
        return [line.rstrip() for line in handle if line.strip() and not line.lstrip().startswith("#")]
