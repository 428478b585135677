"""The reuse key and the reasons a build gives for not reusing the environment."""

import json
import os
import sys

from runtime import envcache, stepcache
from tests.venv_layout import embedded_venv


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
    (venv / "bin").mkdir()
    for name in ("python", "python3"):
        os.symlink(sys.executable, venv / "bin" / name)
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


def saved_entry(tmp_path):
    """A DirectoryStore with one saved environment (embedded interpreter, relative links)."""
    venv = embedded_venv(tmp_path / "app" / "venv")
    (venv / "lib" / "site-packages" / "django" / "contrib").mkdir(parents=True)
    (venv / "lib" / "site-packages" / "django" / "contrib" / "admin.py").write_text("x = 1\n")
    (venv / "pyvenv.cfg").write_text("home = x\nversion = 3.11.2\n")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app"))
    store.save(str(venv), {"python": "3.11.2"})
    return os.path.realpath(tmp_path / "cache" / "env" / "current") + "/venv"


def test_a_complete_entry_is_restored(tmp_path):
    saved_entry(tmp_path)
    store = envcache.Remembering(envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2")))
    assert store.load(str(tmp_path / "app2" / "venv")) == {"python": "3.11.2"} and store.restored
    assert os.path.isfile(tmp_path / "app2" / "venv" / "bin" / "python")


def test_an_entry_that_lost_files_after_it_was_saved_is_not_trusted(tmp_path):
    """The key says what the environment should hold; a restored copy must hold it, or every step
    keyed on the environment (collectstatic, the import check) would trust a partial one."""
    entry = saved_entry(tmp_path)
    os.unlink(entry + "/lib/site-packages/django/contrib/admin.py")
    store = envcache.Remembering(envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2")))
    assert store.peek() == {"python": "3.11.2"}
    assert store.load(str(tmp_path / "app2" / "venv")) is None and not store.restored
    assert not os.path.exists(tmp_path / "app2" / "venv")
    # The build then says why it does not reuse it (the peeked key is kept for that).
    assert store.previous_key == {"python": "3.11.2"}


def test_an_entry_whose_interpreter_is_gone_is_not_trusted(tmp_path):
    entry = saved_entry(tmp_path)
    os.unlink(entry + "/interpreter/bin/python3.11")
    with open(entry + "/interpreter/bin/other", "w"):  # same number of entries
        pass
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert store.load(str(tmp_path / "app2" / "venv")) is None


def test_an_entry_saved_without_its_record_is_not_trusted(tmp_path):
    saved_entry(tmp_path)
    key_file = tmp_path / "cache" / "env" / "current" / "key.json"
    meta = json.loads(key_file.read_text())
    del meta["manifest"]
    key_file.write_text(json.dumps(meta))
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert store.load(str(tmp_path / "app2" / "venv")) is None
    assert store.problem == "the cached environment has no record of its files (saved by an older launchpack)"


def rewrite_in_place(path: str, content: bytes) -> None:
    """What a fault does to a saved file: the same inode, other bytes (cache files are read-only)."""
    os.chmod(path, 0o644)
    with open(path, "r+b") as handle:
        handle.truncate(0)
        handle.write(content)


def test_an_entry_whose_file_was_truncated_is_not_trusted_and_says_which(tmp_path):
    entry = saved_entry(tmp_path)
    rewrite_in_place(entry + "/lib/site-packages/django/contrib/admin.py", b"")
    store = envcache.Remembering(envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2")))
    store.peek()
    assert store.load(str(tmp_path / "app2" / "venv")) is None and not store.restored
    assert store.problem == (
        "the cached environment's lib/site-packages/django/contrib/admin.py changed since it was saved (size 6 -> 0)"
    )
    assert not os.path.exists(tmp_path / "app2" / "venv")
    # Discarded: the next build does not find it (nor check it) again.
    assert store.peek() is None


def test_an_entry_whose_file_changed_with_the_same_size_is_not_trusted(tmp_path):
    entry = saved_entry(tmp_path)
    rewrite_in_place(entry + "/lib/site-packages/django/contrib/admin.py", b"x = 2\n")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert store.load(str(tmp_path / "app2" / "venv")) is None
    assert store.problem == (
        "the cached environment's lib/site-packages/django/contrib/admin.py changed since it was saved"
        " (same size, different content)"
    )


def test_a_changed_link_is_not_trusted(tmp_path):
    entry = saved_entry(tmp_path)
    os.unlink(entry + "/bin/python3")
    os.symlink("/nonexistent", entry + "/bin/python3")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert store.load(str(tmp_path / "app2" / "venv")) is None
    assert store.problem == "the cached environment's link bin/python3 changed since it was saved"


def test_a_changed_file_shared_with_uvs_cache_is_removed_from_it_too(tmp_path):
    """Environments are hardlinked out of uv's cache: a file rewritten in place is broken in both,
    and a rebuild from uv's cache would link the broken file back."""
    archive = tmp_path / "cache" / "uv-cache" / "archive-v0" / "abc123" / "django" / "contrib"
    archive.mkdir(parents=True)
    (archive / "admin.py").write_text("x = 1\n")
    other = tmp_path / "cache" / "uv-cache" / "archive-v0" / "def456"
    other.mkdir()
    (other / "six.py").write_text("y = 1\n")
    entry = saved_entry(tmp_path)
    shared = entry + "/lib/site-packages/django/contrib/admin.py"
    os.unlink(shared)
    os.link(archive / "admin.py", shared)
    meta_file = tmp_path / "cache" / "env" / "current" / "key.json"
    meta = json.loads(meta_file.read_text())
    meta["manifest"] = envcache.tree_manifest(entry)
    meta_file.write_text(json.dumps(meta))
    rewrite_in_place(shared, b"")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app2"))
    assert store.load(str(tmp_path / "app2" / "venv")) is None
    assert not os.path.exists(tmp_path / "cache" / "uv-cache" / "archive-v0" / "abc123")
    assert os.path.exists(other / "six.py")


def test_a_step_entry_that_lost_files_is_run_again(tmp_path):
    static = tmp_path / "build" / "static"
    (static / "admin" / "css").mkdir(parents=True)
    (static / "admin" / "css" / "base.css").write_text("body {}\n")
    (static / "admin" / "login.css").write_text("form {}\n")
    cache = stepcache.StepCache(str(tmp_path / "cache"), "django-static")
    cache.save("d1", {"static_root_relative": "static"}, {"static": str(static)})
    target = tmp_path / "build2" / "static"
    assert cache.restore("d1", lambda result: {"static": str(target)}) == {"static_root_relative": "static"}
    assert (target / "admin" / "css" / "base.css").read_text() == "body {}\n"

    entry = os.path.realpath(tmp_path / "cache" / "steps" / "django-static" / "current")
    os.unlink(os.path.join(entry, "dirs", "static", "admin", "css", "base.css"))
    again = tmp_path / "build3" / "static"
    assert cache.restore("d1", lambda result: {"static": str(again)}) is None
    assert not os.path.exists(again)  # no partial output left for the step to mix with


def test_a_cached_tool_is_checked_against_its_manifest(tmp_path):
    from runtime.installers import tools
    from runtime.output import Output

    made = tmp_path / ".tmp-uv" / "uv"
    (made / "bin").mkdir(parents=True)
    (made / "bin" / "uv").write_bytes(b"\x7fELF" + b"x" * 100)
    final = tmp_path / "uv-0.13.9"
    tools._publish(str(made), str(final))
    assert tools.tool_problem(str(final), "the cached uv 0.13.9") is None
    # Python writes a tool's __pycache__ as it runs: tolerated; a changed file is not.
    (final / "bin" / "__pycache__").mkdir()
    (final / "bin" / "__pycache__" / "x.pyc").write_bytes(b"pyc")
    assert tools.tool_problem(str(final), "the cached uv 0.13.9") is None
    with open(final / "bin" / "uv", "r+b") as handle:
        handle.truncate(10)
    assert tools.tool_problem(str(final), "the cached uv 0.13.9") == (
        "the cached uv 0.13.9's bin/uv changed since it was saved (size 104 -> 10)"
    )
    lines = []
    out = Output(type("Stream", (), {"write": lambda self, text: lines.append(text), "flush": lambda self: None})())
    assert not tools._usable(str(final), "the cached uv 0.13.9", out)
    assert not final.exists()
    assert (
        "Warning: the cached uv 0.13.9's bin/uv changed since it was saved (size 104 -> 10): installing it again"
        in ("".join(lines))
    )
