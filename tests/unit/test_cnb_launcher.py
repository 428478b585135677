"""The harness's model of the CNB launcher follows the spec's rules (buildpack.md "Environment",
"exec.d"; lifecycle env/env.go, launch/launcher.go), independently of what launchpack writes."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write
from tests.harness import cnb_launcher as launcher

BPS = [{"id": "acme/one"}, {"id": "acme/two"}]


def layer(root, buildpack: str, name: str, files: dict[str, str], executable: tuple[str, ...] = ()) -> str:
    path = os.path.join(str(root), launcher.escape_id(buildpack), name)
    os.makedirs(path, exist_ok=True)
    for rel, content in files.items():
        write(os.path.join(path, rel), content, mode=0o755 if rel in executable else None)
    return path


def test_suffix_rules(tmp_path):
    layer(tmp_path, "acme/one", "a", {
        "env.launch/PLAIN": "plain",                 # no suffix: override
        "env.launch/OVER.override": "over",
        "env.launch/DEF.default": "default",
        "env.launch/KEEP.default": "ignored",
        "env.launch/EMPTY.default": "filled",
        "env.launch/PRE.prepend": "/new",
        "env.launch/PRE.delim": ":",
        "env.launch/GLUE.prepend": "x",              # no .delim: no separator
        "env.launch/APP.append": "tail",
        "env.launch/APP.delim": ",",
        "env.launch/ODD.unknown": "ignored",
        "env.launch/FRESH.prepend": "only",          # prepend to nothing: no dangling separator
        "env.launch/FRESH.delim": ":",
    })  # fmt: skip
    env = launcher.launch_env(
        {"PLAIN": "old", "OVER": "old", "KEEP": "user", "EMPTY": "", "PRE": "/old", "GLUE": "y", "APP": "head"},
        str(tmp_path), BPS[:1], "web",
    )  # fmt: skip
    assert env == {
        "PLAIN": "plain", "OVER": "over", "DEF": "default", "KEEP": "user", "EMPTY": "filled",
        "PRE": "/new:/old", "GLUE": "xy", "APP": "head,tail", "FRESH": "only",
    }  # fmt: skip


def test_order_layers_buildpacks_and_process_specific_env(tmp_path):
    layer(tmp_path, "acme/one", "b", {"env/X": "one-b", "env.launch/Y": "launch-wins", "env/Y": "env"})
    layer(tmp_path, "acme/one", "a", {"env/X": "one-a", "bin/tool": "", "lib/libx.so": ""})
    layer(tmp_path, "acme/two", "z", {"env.launch/web/W": "web only", "env.launch/D.default": "two"})
    layer(tmp_path, "acme/one", "c", {"env.launch/D.default": "one"})
    base = {"PATH": "/cnb/process:/usr/bin", "CNB_APP_DIR": "/workspace", "CNB_LAYERS_DIR": "/layers"}
    web = launcher.launch_env(base, str(tmp_path), BPS, "web")
    assert web["X"] == "one-b"  # later layers (by name) override earlier ones
    assert web["Y"] == "launch-wins"  # env.launch after env
    assert web["W"] == "web only"
    assert web["D"] == "one"  # defaults: the earliest wins
    assert web["PATH"] == os.path.join(str(tmp_path), "acme_one", "a", "bin") + ":/usr/bin"
    assert web["LD_LIBRARY_PATH"] == os.path.join(str(tmp_path), "acme_one", "a", "lib")
    assert "CNB_APP_DIR" not in web and "CNB_LAYERS_DIR" not in web
    assert "W" not in launcher.launch_env(base, str(tmp_path), BPS, "worker")


def test_execd_programs_write_toml_on_fd3_in_order(tmp_path):
    script = '#!/bin/sh\necho "WHO = \\"$0\\"" >&3\necho "SEEN = \\"${SEEN:-}$1x\\"" >&3\n'
    layer(tmp_path, "acme/one", "a", {"exec.d/10-first": script, "exec.d/web/20-web": script}, ("exec.d/10-first", "exec.d/web/20-web"))
    layer(tmp_path, "acme/two", "b", {"exec.d/05-other": script}, ("exec.d/05-other",))
    programs = launcher.execd_programs(str(tmp_path), BPS, "web")
    assert [os.path.basename(p) for p in programs] == ["10-first", "20-web", "05-other"]
    assert [os.path.basename(p) for p in launcher.execd_programs(str(tmp_path), BPS, "worker")] == ["10-first", "05-other"]
    env = {"PATH": "/usr/bin:/bin"}
    for program in programs:
        env.update(launcher.run_execd(program, env, str(tmp_path)))
    assert env["WHO"].endswith("05-other") and env["SEEN"] == "xxx"  # each saw the previous ones' output


def test_failing_execd_program_stops_the_launch(tmp_path):
    path = layer(tmp_path, "acme/one", "a", {"exec.d/bad": "#!/bin/sh\nexit 3\n"}, ("exec.d/bad",))
    with pytest.raises(RuntimeError, match="exited with 3"):
        launcher.run_execd(os.path.join(path, "exec.d", "bad"), {"PATH": "/usr/bin:/bin"}, str(tmp_path))
