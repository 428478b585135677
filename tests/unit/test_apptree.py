import os

import pytest

from runtime import apptree, errors
from runtime.output import Output


def make_app(tmp_path):
    app = tmp_path / "app"
    (app / "static").mkdir(parents=True)
    (app / "static" / "site.css").write_text("body {}\n")
    (app / ".venv" / "bin").mkdir(parents=True)
    (app / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    os.symlink("/usr/bin/python3", app / ".venv" / "bin" / "python")  # a developer's venv: not judged
    (app / ".launchpack-runtime").mkdir()
    os.symlink("/usr/bin/python3", app / ".launchpack-runtime" / "python")  # ours: skipped
    os.symlink("site.css", app / "static" / "alias.css")  # inside: fine
    return app


def test_a_clean_app_has_no_findings(tmp_path):
    found = apptree.scan(str(make_app(tmp_path)), skip=(".launchpack-runtime",))
    assert found == apptree.Findings()


def test_links_out_of_the_app_and_special_files_are_found(tmp_path):
    app = make_app(tmp_path)
    os.symlink("/etc", app / "static" / "etc")  # a directory link: judged, not walked
    os.symlink("/proc/self/environ", app / "env.txt")
    os.symlink("/nowhere/at/all", app / "dangling")
    os.mkfifo(app / "static" / "pipe")
    found = apptree.scan(str(app), skip=(".launchpack-runtime",))
    assert found.escaping == [("env.txt", os.path.realpath("/proc/self/environ")), ("static/etc", "/etc")]
    assert found.dangling_outside == [("dangling", "/nowhere/at/all")]
    assert found.special == [("static/pipe", "a FIFO")]


def test_the_guard_fails_on_a_fifo_among_static_files_and_warns_once_elsewhere(tmp_path, capsys):
    app = make_app(tmp_path)
    os.mkfifo(app / "build.fifo")
    out = Output()
    guard = apptree.Guard(str(app), (".launchpack-runtime",), out)
    guard.check("as pushed")
    guard.check("after a hook")
    assert capsys.readouterr().out.count("build.fifo (a FIFO)") == 1
    os.mkfifo(app / "static" / "pipe")
    with pytest.raises(errors.SpecialFileInStatic) as raised:
        guard.check("after the hook x")
    assert "static/pipe (a FIFO)" in "\n".join(raised.value.render())


def test_a_message_lists_ten_links_then_counts(tmp_path):
    app = make_app(tmp_path)
    for n in range(13):
        os.symlink("/etc/hostname", app / f"l{n:02}")
    with pytest.raises(errors.LinkOutsideApp) as raised:
        apptree.Guard(str(app), (".launchpack-runtime",), Output()).check("as pushed")
    text = "\n".join(raised.value.render())
    assert "13 symbolic link(s)" in text and "... and 3 more" in text and "l09 -> /etc/hostname" in text
