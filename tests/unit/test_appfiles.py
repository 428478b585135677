"""The app's own text files: unreadable ones end in the catalogue's error naming the file."""

from __future__ import annotations

import os

import pytest

from runtime import appfiles, appinfo, errors, pyproject, python_version, server_choice
from runtime.config import from_mapping

# A file saved as UTF-16 by a Windows editor: the usual way such files stop being UTF-8.
UTF16 = "3.11\n".encode("utf-16")

READERS = {
    "Procfile": lambda app: appinfo.read_procfile(app),
    ".python-version": lambda app: python_version.read_request(app),
    "pyproject.toml": lambda app: pyproject.read(app),
    ".launchpack/server": lambda app: server_choice.read_request(app, from_mapping({})),
    ".launchpack/server_args": lambda app: appinfo.server_args(app),
}


def test_missing_file_is_none_and_present_file_is_its_text(tmp_path):
    assert appfiles.read_text(str(tmp_path), "Procfile") is None
    (tmp_path / "Procfile").write_text("web: ./run\n")
    assert appfiles.read_text(str(tmp_path), "Procfile") == "web: ./run\n"


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_file_that_is_not_utf8_names_itself_and_the_fix(tmp_path, name):
    os.makedirs(os.path.dirname(tmp_path / name), exist_ok=True)
    (tmp_path / name).write_bytes(UTF16)
    with pytest.raises(errors.ConfigFileUnreadable) as caught:
        READERS[name](str(tmp_path))
    text = "\n".join(caught.value.render())
    assert f"Could not read {name}" in text
    assert "readable text file (UTF-8)" in text
