"""The shell code `launchpack activate` and `launchpack deactivate` print, for `eval` (pure).

POSIX sh, so it works in bash, zsh, dash and ksh. Activation puts the project's environment
first on PATH, records the project (LAUNCHPACK_PROJECT, LAUNCHPACK_PROJECT_DIR,
LAUNCHPACK_PROJECT_ENV: later `launchpack` commands use it from any directory), prefixes the
prompt with `(launchpack+NAME)` and defines `deactivate`, as a virtualenv's activate script does.
Everything it changes is saved first so that deactivation restores it exactly.
"""

from __future__ import annotations

import os
import shlex

from runtime.adapters.local_project import ACTIVE_DIR, ACTIVE_ENV, ACTIVE_NAME, Project

DEACTIVATE = f"""if [ -n "${{{ACTIVE_NAME}:-}}" ]; then
  PATH="${{_LAUNCHPACK_OLD_PATH:-$PATH}}"; export PATH
  PS1="${{_LAUNCHPACK_OLD_PS1:-}}"
  if [ -n "${{_LAUNCHPACK_OLD_VIRTUAL_ENV:-}}" ]; then
    VIRTUAL_ENV="$_LAUNCHPACK_OLD_VIRTUAL_ENV"; export VIRTUAL_ENV
  else
    unset VIRTUAL_ENV
  fi
  unset {ACTIVE_NAME} {ACTIVE_DIR} {ACTIVE_ENV} _LAUNCHPACK_OLD_PATH _LAUNCHPACK_OLD_PS1 _LAUNCHPACK_OLD_VIRTUAL_ENV
  unset -f deactivate 2>/dev/null || true
  hash -r 2>/dev/null || true
fi
"""


def prompt_prefix(name: str) -> str:
    return f"(launchpack+{name}) "


def deactivation() -> str:
    return (
        '# launchpack: leave the active project (eval "$(launchpack deactivate)", or just: deactivate)\n' + DEACTIVATE
    )


def activation(project: Project, venv_dir: str) -> str:
    quote = shlex.quote
    body = "\n".join(
        [
            f"# launchpack: activate the project {project.name} ({project.app_dir})",
            DEACTIVATE.rstrip("\n"),  # leave a project activated before, so that its PATH is not kept
            '_LAUNCHPACK_OLD_PATH="$PATH"',
            '_LAUNCHPACK_OLD_VIRTUAL_ENV="${VIRTUAL_ENV:-}"',
            '_LAUNCHPACK_OLD_PS1="${PS1:-}"',
            f"{ACTIVE_NAME}={quote(project.name)}; export {ACTIVE_NAME}",
            f"{ACTIVE_DIR}={quote(project.app_dir)}; export {ACTIVE_DIR}",
            f"{ACTIVE_ENV}={quote(project.env_dir)}; export {ACTIVE_ENV}",
            f"VIRTUAL_ENV={quote(venv_dir)}; export VIRTUAL_ENV",
            f'PATH={quote(os.path.join(venv_dir, "bin"))}"${{PATH:+:$PATH}}"; export PATH',
            f'PS1={quote(prompt_prefix(project.name))}"${{PS1:-}}"',
            "deactivate () {",
            "  " + DEACTIVATE.rstrip("\n").replace("\n", "\n  "),
            "}",
            "hash -r 2>/dev/null || true",
        ]
    )
    return body + "\n"
