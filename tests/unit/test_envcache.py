"""The reuse key and the reasons a build gives for not reusing the environment."""

import os

from runtime import envcache


def key(tmp_path, **overrides):
    args = {
        "python_version": "3.11.2",
        "installer": "uv 0.13.9",
        "files": [str(tmp_path / "requirements.txt")],
        "server": "gunicorn",
    }
    args.update(overrides)
    return envcache.reuse_key(
        args["python_version"],
        args["installer"],
        args["files"],
        ["gunicorn", "whitenoise"],
        app_dir=str(tmp_path),
        source="requirements",
        server=args["server"],
    )


def test_unchanged_inputs_give_no_reason(tmp_path):
    (tmp_path / "requirements.txt").write_text("six\n")
    assert envcache.reasons_to_rebuild(key(tmp_path), key(tmp_path)) == []
    assert envcache.reasons_to_rebuild(None, key(tmp_path)) == ["there is no previous environment"]


def test_each_input_is_a_reason(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("six\n")
    before = key(tmp_path)
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "base.txt").write_text("idna\n")
    monkeypatch.setenv("STACK", "heroku-99")
    monkeypatch.setattr(envcache.platform, "machine", lambda: "riscv64")
    after = key(
        tmp_path,
        python_version="3.12.1 (uv-managed)",
        installer="pip 26.3",
        server="uwsgi",
        files=[str(tmp_path / "requirements.txt"), str(tmp_path / "base.txt")],
    )
    reasons = envcache.reasons_to_rebuild(before, after)
    assert reasons == [
        "the Python version changed (3.11.2 -> 3.12.1 (uv-managed))",
        f"the stack changed ({before['stack']} -> heroku-99)",
        f"the CPU architecture changed ({before['arch']} -> riscv64)",
        "the installer changed (uv 0.13.9 -> pip 26.3)",
        "base.txt was added",
        "requirements.txt changed",
        "the web server changed (gunicorn -> uwsgi)",
    ]


def test_a_saved_environment_is_hardlinked_and_read_only(tmp_path):
    venv = tmp_path / "app" / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "mod.py").write_text("x = 1\n")
    (venv / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion = 3.11.2\ncommand = {tmp_path}/app/venv\n")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app"))
    store.save(str(venv), {"python": "3.11.2"})
    other = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert other.peek() == {"python": "3.11.2"}
    target = tmp_path / "app2" / "venv"
    assert other.load(str(target)) == {"python": "3.11.2"}
    saved = os.path.realpath(tmp_path / "cache" / "env" / "current") + "/venv/lib/mod.py"
    assert os.stat(saved).st_ino == os.stat(target / "lib" / "mod.py").st_ino
    assert not os.stat(saved).st_mode & 0o222
    # Relocation replaced pyvenv.cfg instead of writing through the shared file.
    assert f"{tmp_path}/app2/venv" in (target / "pyvenv.cfg").read_text()
    assert (
        f"{tmp_path}/app/venv"
        in open(os.path.realpath(tmp_path / "cache" / "env" / "current") + "/venv/pyvenv.cfg").read()
    )
