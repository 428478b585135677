"""Running the app's own hooks (bin/pre_compile, .launchpack/action_hooks/*, ...)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime import errors
from runtime.output import Output


def check_runnable(app_dir: str, hook: str) -> str:
    path = os.path.join(app_dir, hook)
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        raise errors.HookNotExecutable(hook=hook)
    return path


def run_hook(app_dir: str, hook: str, env: Mapping[str, str], out: Output) -> None:
    """Run a hook from the app dir with its output streamed; fail the build if it fails."""
    path = check_runnable(app_dir, hook)
    try:
        code, _ = out.stream([path], cwd=app_dir, env=env)
    except OSError as exc:  # e.g. a bad #! line: the kernel refuses to exec the file
        raise errors.HookCannotRun(hook=hook, reason=exc.strerror or str(exc)) from None
    if code != 0:
        raise errors.HookFailed(hook=hook, code=code)
