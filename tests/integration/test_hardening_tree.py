"""Adversarial builds, the app tree: no escape through symlinks, no hang on special files.

Each case builds an app shaped to make the build read or publish what it must not, and asserts
the outcome (a catalogued error naming the file, or a green build and a working app), no
traceback, and that the next build, with the problem removed, succeeds."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write
from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration

SECRET = "tr33-s3cret-value-99"
CONFIG = {"SECRET_KEY": SECRET}


HOOKS = {"build": ".launchpack/action_hooks/build", "post_compile": "bin/post_compile"}


def hook(app: str, body: str, name: str = "build") -> None:
    write(os.path.join(app, HOOKS[name]), "#!/bin/sh\nset -e\n" + body, mode=0o755)


def failed(result) -> str:
    output = result.output
    assert not result.ok, output
    assert "Traceback (most recent call last)" not in output, output
    assert " !     Error: " in output, output
    assert SECRET not in output
    return output


def test_a_static_link_to_the_process_environment_fails_the_build(heroku: Heroku, app_copy):
    """The attack: collectstatic would copy the build's environment, SECRET_KEY included, and
    the app would serve it at /static/env.txt."""
    app = app_copy("django")
    os.makedirs(os.path.join(app, "mysite", "static"), exist_ok=True)
    os.symlink("/proc/self/environ", os.path.join(app, "mysite", "static", "env.txt"))
    cache = heroku.new_cache()
    output = failed(heroku.build(app, CONFIG, cache_dir=cache).compile)
    assert "symbolic link(s) in the app lead outside it (as pushed)" in output
    assert "mysite/static/env.txt -> /proc/" in output
    os.unlink(os.path.join(app, "mysite", "static", "env.txt"))
    assert heroku.build(app, CONFIG, cache_dir=cache).compile.ok


def test_a_link_made_by_a_hook_to_a_file_of_the_build_machine_fails_the_build(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    hook(app, "ln -s /etc/passwd static/passwd.txt\n")
    output = failed(heroku.build(app, CONFIG).compile)
    assert "(after the hook .launchpack/action_hooks/build)" in output
    assert "static/passwd.txt -> /etc/passwd" in output
    assert "Replace each link with a copy of the file" in output


def test_a_linked_directory_outside_the_app_fails_the_build(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    os.symlink("/etc", os.path.join(app, "static", "etc"))
    output = failed(heroku.build(app, CONFIG).compile)
    assert "static/etc -> /etc" in output


def test_links_inside_the_app_still_work(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "docs", "note.txt"), "a note\n")
    os.symlink("../docs/note.txt", os.path.join(app, "static", "note.txt"))
    os.symlink("/nonexistent/dev-machine/path", os.path.join(app, "leftover-link"))  # dangling, outside
    slug = heroku.build(app, {**CONFIG, "LAUNCHPACK_STATIC_URL": "/static/", "LAUNCHPACK_STATIC_ROOT": "static"})
    assert slug.compile.ok, slug.compile.output
    assert "leftover-link -> /nonexistent/dev-machine/path" in slug.compile.output  # named in a warning
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/static/note.txt").text == "a note\n"


def test_a_fifo_made_by_a_hook_is_skipped_not_waited_on(heroku: Heroku, app_copy):
    """Before: the build hung forever digesting the tree (open() on a FIFO blocks)."""
    app = app_copy("wsgi_app")
    hook(app, "mkfifo build.fifo\n")
    cache = heroku.new_cache()
    slug = heroku.build(app, CONFIG, cache_dir=cache, timeout=300)
    assert slug.compile.ok, slug.compile.output
    assert "Skipping special files" in slug.compile.output and "build.fifo (a FIFO)" in slug.compile.output
    again = heroku.build(app, CONFIG, cache_dir=cache, timeout=300)  # the digest is reused, still no hang
    assert again.compile.ok, again.compile.output
    with heroku.start(again) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/").status == 200


def test_a_fifo_among_static_files_fails_the_build(heroku: Heroku, app_copy):
    app = app_copy("django")
    hook(app, "mkdir -p mysite/static && mkfifo mysite/static/stream\n")
    output = failed(heroku.build(app, CONFIG, timeout=300).compile)
    assert "A FIFO, socket or device is among the app's static files" in output
    assert "mysite/static/stream (a FIFO)" in output


def test_what_the_web_process_serves_is_what_the_build_loaded(heroku: Heroku, app_copy):
    """WhiteNoise (gunicorn, waitress) reads the static root when the web process starts: a
    dangling link there passed the import check and then crashed every worker."""
    app = app_copy("django")
    with open(os.path.join(app, "mysite", "settings.py"), "a", encoding="utf-8") as handle:
        handle.write('\nSTATIC_ROOT = BASE_DIR / "staticfiles"\n')
    hook(app, "ln -s ../assets/gone.css staticfiles/gone.css\n", name="post_compile")
    cache = heroku.new_cache()
    config = {**CONFIG, "LAUNCHPACK_SERVER": "gunicorn"}
    output = failed(heroku.build(app, config, cache_dir=cache).compile)
    assert "Your app loads, but not as the web process serves it: with its static files (staticfiles)" in output
    assert "gone.css" in output
    os.unlink(os.path.join(app, HOOKS["post_compile"]))
    slug = heroku.build(app, config, cache_dir=cache)
    assert slug.compile.ok, slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        assert dyno.get("/static/admin/css/base.css").status == 200
