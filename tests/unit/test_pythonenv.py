"""Relocating a venv: built in one place, run from another."""

import os
import shutil
import subprocess
import sys

import pytest

from runtime import errors, pythonenv
from tests.venv_layout import embedded_venv as layout_embedded_venv


def test_relocated_venv_scripts_run_after_a_move(tmp_path):
    build = tmp_path / "build_x" / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(build)], check=True)
    script = build / "bin" / "hello"
    script.write_text(f"#!{build}/bin/python\nimport sys\nprint('hello from', sys.prefix)\n")
    script.chmod(0o755)
    pth = build / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages" / "editable.pth"
    pth.write_text(str(tmp_path / "build_x") + "/src\n")
    assert pythonenv.make_relocatable(str(build), str(tmp_path / "build_x"), "/app") >= 2
    assert pth.read_text() == "/app/src\n"
    moved = tmp_path / "elsewhere" / "venv"
    shutil.move(str(tmp_path / "build_x"), str(tmp_path / "elsewhere"))
    out = subprocess.run([str(moved / "bin" / "hello")], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"hello from {moved}"


def test_scripts_not_pointing_into_the_venv_are_left_alone(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "tool").write_text("#!/bin/sh\necho hi\n")
    assert pythonenv.make_relocatable(str(venv)) == 0
    assert (venv / "bin" / "tool").read_text() == "#!/bin/sh\necho hi\n"


def test_installed_reads_dist_info(tmp_path):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "WhiteNoise-6.9.0.dist-info").mkdir(parents=True)
    (site / "zope.interface-7.0.dist-info").mkdir()
    assert pythonenv.installed(str(tmp_path), "whitenoise")
    assert pythonenv.installed(str(tmp_path), "zope-interface")
    assert not pythonenv.installed(str(tmp_path), "gunicorn")


def embedded_venv(root):
    return layout_embedded_venv(root / "venv")


def test_an_embedded_interpreter_reached_by_relative_links_is_fine(tmp_path):
    venv = embedded_venv(tmp_path / "build_x")
    assert pythonenv.interpreter_problem(str(venv), build_dir=str(tmp_path / "build_x")) is None
    pythonenv.check_interpreter(str(venv))


def test_each_broken_interpreter_state_is_named(tmp_path):
    build = tmp_path / "build_x"
    venv = embedded_venv(build)
    # Gone: the web process would exit 127 with "python: not found".
    os.unlink(venv / "bin" / "python")
    assert pythonenv.interpreter_problem(str(venv)) == "bin/python is missing"
    # Dangling: the environment was replaced without its interpreter copy.
    os.symlink("python3.11", venv / "bin" / "python")
    shutil.rmtree(venv / "interpreter")
    assert "leads to" in pythonenv.interpreter_problem(str(venv), embedded=True)
    assert "does not exist" in pythonenv.interpreter_problem(str(venv), embedded=True)
    with pytest.raises(errors.EnvironmentInterpreterBroken) as raised:
        pythonenv.check_interpreter(str(venv), embedded=True, after=" after installing the dependencies")
    assert raised.value.render()[0].startswith(
        "The app's Python environment has no working interpreter after installing the dependencies: bin/python"
    )


def test_an_environment_recreated_on_another_interpreter_is_refused(tmp_path):
    """What `uv sync` leaves when it recreates an environment it judges unusable: bin/python on
    the build machine's Python, which the run image does not have, and no interpreter copy."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    os.symlink(sys.executable, venv / "bin" / "python")
    os.symlink(sys.executable, venv / "bin" / "python3")
    assert pythonenv.interpreter_problem(str(venv), embedded=False) is None  # the local CLI's case
    assert "not to the environment's own interpreter" in pythonenv.interpreter_problem(str(venv), embedded=True)


def test_a_link_into_the_build_dir_works_now_but_not_in_the_slug(tmp_path):
    build = tmp_path / "build_x"
    venv = embedded_venv(build)
    os.unlink(venv / "bin" / "python3.11")
    os.symlink(str(venv / "interpreter" / "bin" / "python3.11"), venv / "bin" / "python3.11")  # absolute
    assert os.path.isfile(venv / "bin" / "python")  # resolves during the build...
    problem = pythonenv.interpreter_problem(str(venv), build_dir=str(build))
    assert problem == f"bin/python3.11 links to {venv}/interpreter/bin/python3.11, a path of the build dir"


def test_a_leftover_temporary_file_shared_with_the_cache_is_not_written_through(tmp_path):
    """A build killed while relocating leaves bin/tool.launchpack-tmp; if that name is a hardlink
    of a cached file, the next rewrite must replace it, not truncate the cache's copy."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "tool").write_text(f"#!{venv}/bin/python\nprint('hi')\n")
    cached = tmp_path / "cached-file"
    cached.write_text("cached content\n")
    os.link(cached, venv / "bin" / "tool.launchpack-tmp")
    assert pythonenv.make_relocatable(str(venv)) == 1
    assert cached.read_text() == "cached content\n"
    assert (venv / "bin" / "tool").read_text().startswith("#!/bin/sh\n")
    assert not (venv / "bin" / "tool.launchpack-tmp").exists()
