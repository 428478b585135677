"""Bad input: every failure a user can cause ends the build with a clear message, no traceback."""

from __future__ import annotations

import os

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration


def failed_build(heroku: Heroku, app: str, config: dict[str, str] | None = None, cache: str | None = None) -> str:
    build_dir = heroku.stage_app(app)
    result = heroku.compile(build_dir, cache or heroku.new_cache(), config)
    assert result.returncode != 0, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    assert " !     Error: " in result.output
    return result.output


def test_detect_rejects_a_non_python_app_listing_what_it_saw(heroku: Heroku):
    build_dir = heroku.stage_app(os.path.join(FIXTURES, "not_python"))
    result = heroku.detect(build_dir)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "requirements.txt" in result.stderr and "pyproject.toml" in result.stderr  # what it looked for
    assert "index.html" in result.stderr and "package.json" in result.stderr  # what it found


def test_detect_accepts_a_python_app(heroku: Heroku):
    result = heroku.detect(heroku.stage_app(os.path.join(FIXTURES, "wsgi_app")))
    assert (result.returncode, result.stdout) == (0, "Python\n")


def test_missing_package_names_the_file_and_leaves_the_cache_usable(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "requirements.txt"), "this-package-does-not-exist-launchpack==1.0\n")
    cache = heroku.new_cache()
    output = failed_build(heroku, app, cache=cache)
    assert "Installing dependencies from requirements.txt failed" in output
    assert "this-package-does-not-exist-launchpack" in output  # pip's own words, above ours
    assert "Check the package names and versions in requirements.txt" in output
    # The next build with the mistake fixed succeeds with the same cache.
    write(os.path.join(app, "requirements.txt"), "\n")
    again = heroku.build(app, cache_dir=cache)
    assert again.compile.ok, again.compile.output


def test_failing_build_hook_names_the_hook_and_its_exit_status(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, ".launchpack/action_hooks/build"), "#!/bin/sh\necho 'hook ran'\nexit 3\n", mode=0o755)
    output = failed_build(heroku, app)
    assert "hook ran" in output
    assert "The hook .launchpack/action_hooks/build failed with exit status 3" in output


def test_hook_that_is_not_executable_says_how_to_fix_it(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "bin/post_compile"), "#!/bin/sh\necho hi\n", mode=0o644)
    output = failed_build(heroku, app)
    assert "The hook bin/post_compile is not executable" in output
    assert "chmod +x bin/post_compile" in output


def test_broken_django_settings_fail_with_the_file_and_disable_collectstatic(heroku: Heroku, app_copy):
    app = app_copy("django")
    with open(os.path.join(app, "mysite", "settings.py"), "a") as handle:
        handle.write("\nTHIS IS NOT PYTHON = 1\n")
    output = failed_build(heroku, app)
    assert "Your Django settings module 'mysite.settings' could not be loaded" in output
    assert "SyntaxError" in output
    assert "mysite/settings.py" in output
    assert "DISABLE_COLLECTSTATIC=1" in output


def test_procfile_with_invalid_lines_lists_them_with_line_numbers(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "Procfile"), "web: gunicorn wsgi\nworker:\n# comment\nweb: again\nthis is not a process\n")
    output = failed_build(heroku, app)
    assert "Your Procfile has invalid lines" in output
    assert "line 2: process type 'worker' has an empty command" in output
    assert "line 4: process type 'web' is already defined on line 1" in output
    assert "line 5: expected '<process type>: <command>'" in output


def test_unknown_python_version_names_the_version_and_the_file(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, ".python-version"), "# pinned by the team\n3.99\n")
    output = failed_build(heroku, app)
    assert "Python 3.99 is not available" in output
    assert ".python-version asks for Python 3.99" in output


def test_malformed_runtime_txt_shows_the_invisible_characters(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "runtime.txt"), "\ufeffpython 3.11\r\n")
    output = failed_build(heroku, app)
    assert "runtime.txt does not contain a Python version launchpack understands" in output
    assert "python-3.11.2" in output  # the expected form
