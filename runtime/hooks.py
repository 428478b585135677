"""Running the app's own hooks (bin/pre_compile, .launchpack/action_hooks/*, ...)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from runtime import errors
from runtime.output import Output


def _first_line(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.readline(4096)
    except OSError:
        return b""


def check_runnable(app_dir: str, hook: str) -> str:
    path = os.path.join(app_dir, hook)
    # A symlink to nothing: os.access() follows it and would only say "not executable".
    if os.path.islink(path) and not os.path.exists(path):
        target = os.readlink(path)
        resolved, root = os.path.realpath(path), os.path.realpath(app_dir)
        if resolved.startswith(root + os.sep):
            resolved = os.path.relpath(resolved, root)
        raise errors.HookDanglingSymlink(hook=hook, target=target, resolved=resolved)
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        raise errors.HookNotExecutable(hook=hook)
    # "#!/bin/sh\r\n": the kernel looks for "/bin/sh\r" and the exec fails with ENOENT, which
    # names neither the line nor the \r. Every interpreter line ending in \r fails that way.
    # (A file with old Mac line endings, \r alone, has its whole text on that line: show up to the \r.)
    line = _first_line(path)
    if line.startswith(b"#!") and b"\r" in line:
        interpreter_line = line.split(b"\r", 1)[0]
        shown = repr((interpreter_line + b"\r").decode("utf-8", "replace"))
        # The last word carries the \r: the interpreter (#!/bin/sh) or its argument (#!/usr/bin/env bash).
        words = interpreter_line[2:].split() or [b""]
        word = words[-1].decode("utf-8", "replace")
        raise errors.HookCarriageReturn(hook=hook, shown=shown, word=word)
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
