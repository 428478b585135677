"""Build output in Heroku's conventions.

``-----> Step`` headers, 7-space indented detail, `` !     `` for warnings and errors, and each
step's duration when it ends. Subprocess output is streamed through ``stream()`` so that it
is indented like everything else. Every line is redacted (runtime/redaction.py) whatever stream
it goes to; the adapters also route the process's own stdout and stderr through the redactor.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from runtime import redaction

ARROW = "-----> "
INDENT = " " * 7
BANG = " !     "


class Output:
    def __init__(self, stream: IO[str] | None = None, quiet: bool = False):
        self._stream = stream or sys.stdout
        self.quiet = quiet

    @staticmethod
    def redact(text: str) -> str:
        return redaction.REDACT(text)

    def _write(self, line: str) -> None:
        self._stream.write(self.redact(line) + "\n")
        self._stream.flush()

    def header(self, title: str) -> None:
        self._write(ARROW + title)

    def info(self, message: str) -> None:
        if not self.quiet:
            for line in message.splitlines() or [""]:
                self._write(INDENT + line if line else "")

    def warn(self, message: str) -> None:
        for line in message.splitlines():
            self._write(BANG + "Warning: " + line if line else BANG.rstrip())

    def error(self, lines: Sequence[str]) -> None:
        self._write("")
        for index, line in enumerate(lines):
            prefix = BANG + "Error: " if index == 0 else BANG
            self._write((prefix + line).rstrip())
        self._write("")

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        """A titled step; prints its duration when it ends, whether it succeeded or not."""
        self.header(title)
        started = time.monotonic()
        try:
            yield
        finally:
            self.info(f"({time.monotonic() - started:.1f}s)")

    def stream(
        self,
        command: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        show: bool = True,
        stdin: int | None = subprocess.DEVNULL,
    ) -> tuple[int, str]:
        """Run a command, streaming its merged output indented; return (exit status, output).

        The output is also returned (redacted) so callers can inspect it for known failure
        patterns. Raises OSError if the command cannot be started at all.
        """
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
        )
        captured: list[str] = []
        assert process.stdout is not None
        for raw in process.stdout:
            line = self.redact(raw.rstrip("\n"))
            captured.append(line)
            if show and not self.quiet:
                self._stream.write(INDENT + line + "\n")
                self._stream.flush()
        return process.wait(), "\n".join(captured)
