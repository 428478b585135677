"""OS faults as catalogued errors (runtime/faults.py) and failed copies capped (envcache.CopyError)."""

import errno
import os
import shutil

from runtime import envcache, errors, faults


def test_a_full_disk_is_the_build_dir_or_the_cache_by_where_it_hit(tmp_path):
    app, cache = str(tmp_path / "build"), str(tmp_path / "cache")
    in_app = OSError(errno.ENOSPC, "No space left on device", app + "/.launchpack-runtime/venv/x.py")
    in_cache = OSError(errno.ENOSPC, "No space left on device", cache + "/launchpack/tools/uv")
    assert isinstance(faults.as_error(in_app, app, cache), errors.BuildDirFull)
    assert isinstance(faults.as_error(in_cache, app, cache), errors.CacheFull)
    # A copy names its source first: the disk that is full is the target's (filename2).
    copy = OSError(errno.ENOSPC, "No space left on device")
    copy.filename, copy.filename2 = "/usr/bin/python3.11", app + "/venv/interpreter/bin/python3.11"
    error = faults.as_error(copy, app, cache)
    assert isinstance(error, errors.BuildDirFull)
    assert error.render()[2] == f"No space left on device while writing {app}/venv/interpreter/bin/python3.11."


def test_an_unreadable_app_file_and_a_read_only_app_dir(tmp_path):
    app = tmp_path / "build"
    app.mkdir()
    (app / "secret.txt").write_text("x")
    error = faults.as_error(OSError(errno.EROFS, "Read-only file system", str(app / "Procfile")), str(app))
    assert isinstance(error, errors.PathNotWritable)
    assert error.render_title() == f"The build cannot write {app}/Procfile"
    other = faults.as_error(OSError(errno.EIO, "Input/output error", "/dev/sda"))
    assert other.render_title() == "The build failed on /dev/sda: Input/output error"


def test_a_failed_copy_names_a_few_files_not_all_of_them(tmp_path):
    messages = [f"cp: cannot create regular file '/b/f{n}.py': No space left on device" for n in range(5000)]
    failure = envcache.CopyError.from_messages("/a", "/b", messages)
    assert (failure.errno, failure.strerror, failure.filename) == (errno.ENOSPC, "No space left on device", "/b/f0.py")
    assert failure.details.splitlines() == messages[:5] + ["(and 4995 more)"]
    rendered = "\n".join(faults.as_error(failure, "/b").render())
    assert len(rendered.splitlines()) < 20 and "(and 4995 more)" in rendered


def test_shutil_copytree_errors_are_capped_too(tmp_path):
    failed = [(f"/src/f{n}", f"/dst/f{n}", f"[Errno 28] No space left on device: '/dst/f{n}'") for n in range(3000)]
    error = faults.as_error(shutil.Error(failed), "/dst")
    assert isinstance(error, errors.BuildDirFull)
    rendered = error.render()
    assert rendered[2].startswith("No space left on device while writing /dst/f0.")
    assert len(rendered) < 20 and "(and 2995 more)" in rendered


def test_a_cache_entry_that_cannot_be_saved_is_noted_and_leaves_no_partial_entry(tmp_path, monkeypatch):
    venv = tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "x.py").write_text("x = 1\n")
    store = envcache.DirectoryStore(str(tmp_path / "cache"), str(tmp_path / "app"))

    def full(source, target):
        os.makedirs(target)
        raise envcache.CopyError(errno.ENOSPC, "No space left on device", target + "/lib/x.py", [])

    monkeypatch.setattr(envcache, "copy_tree", full)
    envcache.take_unsaved()
    store.save(str(venv), {"python": "3.11.2"})
    ((what, exc),) = envcache.take_unsaved()
    assert what == "the app's Python environment" and exc.errno == errno.ENOSPC
    assert os.listdir(tmp_path / "cache" / "env") == []
    assert store.peek() is None
