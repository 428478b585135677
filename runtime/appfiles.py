"""Reading the app's own small text files (Procfile, .python-version, pyproject.toml, ...).

One place turns "cannot read it" (permissions, not UTF-8, a directory in its place) into the
catalogue's ConfigFileUnreadable, which names the file, instead of a traceback.
"""

from __future__ import annotations

import os

from runtime import errors


def read_text(app_dir: str, name: str) -> str | None:
    """The text of app_dir/name, or None when there is no such file."""
    path = os.path.join(app_dir, name)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.ConfigFileUnreadable(path=name, reason=str(exc)) from None
