"""The app's environment as the build keeps and ships it: never one whose interpreter would not start."""

import io
import os
import shutil
import types

import pytest

from runtime import envcache, errors, layout, pipeline
from runtime.config import ConfigVars
from runtime.output import Output
from tests.venv_layout import embedded_venv


class RecordingStore:
    def __init__(self):
        self.saved = []

    def load(self, venv_dir):
        return None

    def save(self, venv_dir, key):
        self.saved.append(key)


@pytest.fixture
def build(tmp_path, monkeypatch):
    where = layout.heroku(str(tmp_path / "build_x"), str(tmp_path / "cache"))
    embedded_venv(tmp_path / "build_x" / ".launchpack-runtime" / "venv")
    monkeypatch.setattr(pipeline, "environment_key", lambda info, interpreter, config: {"python": "3.11.2"})
    return where


def prepare(where, store):
    out = Output(io.StringIO())
    interpreter = types.SimpleNamespace(managed_root=str(where.venv_dir) + "/interpreter")
    return pipeline.prepare_environment(None, interpreter, where, envcache.Remembering(store), {}, out, ConfigVars())


def test_an_installed_environment_is_checked_then_saved(build, monkeypatch):
    monkeypatch.setattr(pipeline, "install_dependencies", lambda *args: None)
    store = RecordingStore()
    assert prepare(build, store) == {"python": "3.11.2"}
    assert store.saved == [{"python": "3.11.2"}]


def test_an_installer_that_replaced_the_environment_fails_the_build_and_nothing_is_cached(build, monkeypatch):
    """What `uv sync` does with a project environment it judges unusable ("Removed virtual
    environment at: .launchpack-runtime/venv"): removes it, embedded interpreter included, and
    creates another whose bin/python links to that interpreter's old, absolute path."""

    def recreate(info, interpreter, where, config, env, out):
        venv = where.venv_dir
        shutil.rmtree(venv)
        os.makedirs(os.path.join(venv, "bin"))
        # uv 0.13.9's layout (seen with a pyvenv.cfg whose version differs from the interpreter's):
        os.symlink(os.path.join(venv, "interpreter", "bin", "python3.11"), os.path.join(venv, "bin", "python"))
        os.symlink("python", os.path.join(venv, "bin", "python3"))
        os.symlink("python", os.path.join(venv, "bin", "python3.11"))

    monkeypatch.setattr(pipeline, "install_dependencies", recreate)
    store = RecordingStore()
    with pytest.raises(errors.EnvironmentInterpreterBroken) as raised:
        prepare(build, store)
    assert raised.value.render()[0] == (
        "The app's Python environment has no working interpreter after installing the dependencies: "
        f"bin/python leads to {build.venv_dir}/interpreter/bin/python3.11, which does not exist"
    )
    assert store.saved == []  # the next build does not inherit it
