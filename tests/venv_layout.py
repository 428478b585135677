"""The app environment's layout as pythonenv.create(embed=True) makes it, for unit tests."""

from __future__ import annotations

import os


def embedded_venv(venv):
    """venv (a pathlib.Path): bin/python -> python3.11 -> ../interpreter/bin/python3.11 (a file)."""
    (venv / "interpreter" / "bin").mkdir(parents=True)
    (venv / "interpreter" / "bin" / "python3.11").write_text("#!/bin/sh\n")
    (venv / "bin").mkdir()
    os.symlink("../interpreter/bin/python3.11", venv / "bin" / "python3.11")
    os.symlink("python3.11", venv / "bin" / "python")
    os.symlink("python3.11", venv / "bin" / "python3")
    return venv
