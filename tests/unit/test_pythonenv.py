"""Relocating a venv: built in one place, run from another."""

import shutil
import subprocess
import sys

from runtime import pythonenv


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
