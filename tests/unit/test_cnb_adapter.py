"""The CNB adapter's decisions: processes, layer reuse, the deny-list, and that the layer env
gives a process exactly what env.sh gives it on Heroku (applied by the platform's rules, as
modelled in tests/harness/cnb_launcher.py)."""

from __future__ import annotations

import os
import subprocess

import pytest

from procfile_gen import ProcessType, parse
from runtime import layout, runtime_files, tomlfile
from runtime.adapters import cnb
from runtime.layers import Layer, Target
from runtime.output import Output
from tests.conftest import FIXTURES
from tests.harness import cnb_launcher
from tests.harness.cnb import lifecycle_toml

TARGET = Target("linux", "amd64", "debian", "12")


class Captured:
    def __init__(self):
        self.lines: list[str] = []

    def write(self, text: str) -> None:
        self.lines.append(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        return "".join(self.lines)


def restore_like_the_lifecycle(layer: Layer, keep_contents: bool) -> None:
    """What analyze/restore leave for a layer: [metadata] only, contents only if cached."""
    metadata = tomlfile.load(layer.toml_path)["metadata"]
    with open(layer.toml_path, "w") as handle:
        handle.write(lifecycle_toml(metadata))
    if not keep_contents:
        layer.clear()


# --- processes ---------------------------------------------------------------------------


def test_generated_processes_become_bash_commands_with_web_the_default():
    generated = [ProcessType("release", "exec ./.launchpack/action_hooks/migrate"), ProcessType("web", "exec gunicorn x")]
    assert cnb.launch_processes(generated, None) == [
        {"type": "web", "command": ["bash", "-c", "exec gunicorn x"], "default": True},
        {"type": "release", "command": ["bash", "-c", "exec ./.launchpack/action_hooks/migrate"], "default": False},
    ]


def test_user_procfile_entries_win_and_ours_fill_in():
    procfile = parse("worker: celery -A app worker\nweb: gunicorn app:app\n")
    generated = [ProcessType("web", "exec gunicorn ours"), ProcessType("release", "exec ./m")]
    processes = cnb.launch_processes(generated, procfile)
    assert [(p["type"], p["command"][2], p["default"]) for p in processes] == [
        ("web", "gunicorn app:app", True),
        ("worker", "celery -A app worker", False),
        ("release", "exec ./m", False),
    ]
    text = tomlfile.dumps({"processes": processes})
    assert tomlfile.loads(text)["processes"] == processes


# --- the deny-list -------------------------------------------------------------------------


def test_deny_listed_vars_the_lifecycle_exported_are_taken_back():
    environ = {
        "PATH": "/evil/bin:/usr/bin:/bin",  # the lifecycle prepends a user PATH
        "LD_PRELOAD": "/x.so",
        "HOME": "/user-home",
        "PYTHONPATH": "/somewhere-else",  # not the user's value: someone else set it, keep it
        "API_TOKEN": "t",
    }
    exported = {"PATH": "/evil/bin", "LD_PRELOAD": "/x.so", "HOME": "/user-home", "PYTHONPATH": "/user"}
    assert cnb.without_denied_exports(environ, exported, home="/home/cnb") == {
        "PATH": "/usr/bin:/bin",
        "HOME": "/home/cnb",
        "PYTHONPATH": "/somewhere-else",
        "API_TOKEN": "t",
    }


# --- layers --------------------------------------------------------------------------------


def test_launch_only_layer_is_kept_from_the_previous_image_when_unchanged(tmp_path, toml_reader):
    layer = Layer(str(tmp_path), cnb.RUNTIME_LAYER)
    out = Captured()
    files = {"env.launch/A.override": "1"}
    assert cnb.write_runtime_layer(layer, files, frozenset(), Output(out)) is False
    assert os.path.isfile(os.path.join(layer.path, "env.launch", "A.override"))
    assert "there is no previous one" in out.text

    restore_like_the_lifecycle(layer, keep_contents=False)
    assert cnb.write_runtime_layer(layer, files, frozenset(), Output(out)) is True
    assert not os.path.exists(layer.path)  # no directory: the exporter reuses the previous layer
    assert tomlfile.load(layer.toml_path)["types"] == {"launch": True, "build": False, "cache": False}

    restore_like_the_lifecycle(layer, keep_contents=False)
    assert cnb.write_runtime_layer(layer, {"env.launch/A.override": "2"}, frozenset(), Output(out)) is False
    assert open(os.path.join(layer.path, "env.launch", "A.override")).read() == "2"
    assert "its contents changed" in out.text


def _venv_layer(tmp_path, target: Target) -> Layer:
    layer = Layer(str(tmp_path), "venv")
    os.makedirs(layer.path)
    open(os.path.join(layer.path, "pyvenv.cfg"), "w").close()
    store = cnb.LayerStore(layer, target, Output(Captured()))
    store.save(layer.path, {"python": "3.11.2"})
    restore_like_the_lifecycle(layer, keep_contents=True)
    return layer


@pytest.fixture(params=["tomllib", "fallback parser"])
def toml_reader(request, monkeypatch):
    """Run with the stack's tomllib and without it (Python 3.10 stacks)."""
    if request.param == "fallback parser":
        monkeypatch.setattr(tomlfile, "_tomllib", None)
    return request.param


def test_environment_layer_is_reused_only_for_the_same_target(tmp_path, toml_reader):
    layer = _venv_layer(tmp_path, TARGET)
    store = cnb.LayerStore(layer, TARGET, Output(Captured()))
    assert store.load(layer.path) == {"python": "3.11.2"}
    store.write_toml()  # types again, although nothing was saved
    written = tomlfile.load(layer.toml_path)
    assert written["types"] == {"launch": True, "build": False, "cache": True}
    assert written["metadata"]["target"]["arch"] == "amd64"

    restore_like_the_lifecycle(layer, keep_contents=True)
    out = Captured()
    other = cnb.LayerStore(layer, Target("linux", "arm64", "ubuntu", "24.04"), Output(out))
    assert other.load(layer.path) is None
    assert "built for linux/amd64 debian 12, this build targets linux/arm64 ubuntu 24.04" in out.text
    assert not os.path.exists(layer.path)


def test_cache_layer_is_cleared_for_another_target_and_typed_every_build(tmp_path):
    layer = Layer(str(tmp_path), "cache")
    cnb.prepare_cache_layer(layer, TARGET, Output(Captured()))
    open(os.path.join(layer.path, "wheel.whl"), "w").close()
    restore_like_the_lifecycle(layer, keep_contents=True)
    cnb.prepare_cache_layer(layer, TARGET, Output(Captured()))
    assert os.path.exists(os.path.join(layer.path, "wheel.whl"))
    assert tomlfile.load(layer.toml_path)["types"]["cache"] is True

    restore_like_the_lifecycle(layer, keep_contents=True)
    out = Captured()
    cnb.prepare_cache_layer(layer, Target("linux", "arm64"), Output(out))
    assert not os.path.exists(os.path.join(layer.path, "wheel.whl"))
    assert "Clearing the tool and wheel cache" in out.text


# --- the runtime environment ---------------------------------------------------------------


def test_layer_env_gives_processes_what_env_sh_gives_them(tmp_path):
    """Parity with runtime/slug/env.sh, which the Heroku and honcho processes source."""
    app, layers = str(tmp_path / "workspace"), str(tmp_path / "layers" / "launchpack_python")
    where = layout.cnb(app, layers)
    os.makedirs(os.path.join(where.venv_dir, "bin"))
    os.symlink("/usr/bin/python3", os.path.join(where.venv_dir, "bin", "python"))
    runtime_files.copy_runtime_modules(where)
    exports = {"DJANGO_SETTINGS_MODULE": "launchpack_settings"}
    runtime_files.write_env_script(where, {k: f'"{v}"' for k, v in exports.items()})
    base = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}

    sourced = subprocess.run(
        ["env", "-i", *(f"{k}={v}" for k, v in base.items()), "sh", "-c", f'cd "{app}" && . "{where.env_script}" && env -0'],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    via_env_sh = dict(item.split("=", 1) for item in sourced.split("\0") if item)

    files, executable = cnb.runtime_layer_files(where, exports)
    Layer(layers, cnb.RUNTIME_LAYER).write_files(files, executable)
    via_layers = cnb_launcher.launch_env(base, str(tmp_path / "layers"), [{"id": "launchpack/python"}], "web")
    for program in cnb_launcher.execd_programs(str(tmp_path / "layers"), [{"id": "launchpack/python"}], "web"):
        via_layers.update(cnb_launcher.run_execd(program, via_layers, app))

    shell_only = {"PWD", "OLDPWD", "SHLVL", "_"}
    assert {k: v for k, v in via_env_sh.items() if k not in shell_only} == {
        k: v for k, v in via_layers.items() if k != "LD_LIBRARY_PATH"  # the launcher adds the venv's lib/
    }
    assert via_layers["WEB_CONCURRENCY"].isdigit() and via_layers["LAUNCHPACK_THREADS"] == "2"


# --- detect --------------------------------------------------------------------------------


def test_detect_exits_0_or_100(tmp_path):
    assert cnb.detect(os.path.join(FIXTURES, "wsgi_app")) == 0
    assert cnb.detect(os.path.join(FIXTURES, "not_python")) == cnb.NOT_DETECTED == 100
    assert cnb.detect(str(tmp_path)) == 100
    assert cnb.is_cnb({"CNB_BUILD_PLAN_PATH": "/tmp/plan.toml"}) and not cnb.is_cnb({"STACK": "heroku-24"})
