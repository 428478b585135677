"""Bad input about the web process: a clear build error naming the file or setting, no traceback."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write
from tests.harness.heroku import Heroku
from tests.integration.test_heroku_errors import failed_build

pytestmark = pytest.mark.integration


def test_unknown_server_lists_the_valid_ones(heroku: Heroku, app_copy):
    output = failed_build(heroku, app_copy("server_app"), {"LAUNCHPACK_SERVER": "nginx"})
    assert "Unknown web server 'nginx'" in output
    assert "the config var LAUNCHPACK_SERVER asks for 'nginx'" in output
    assert "Use one of: auto, mod_wsgi, gunicorn, uwsgi, waitress." in output


def test_entry_point_that_cannot_be_imported_fails_the_build(heroku: Heroku, app_copy):
    app = app_copy("server_app")
    with open(os.path.join(app, "greeting.py"), "a") as handle:
        handle.write("import launchpack_no_such_module  # a dependency missing from requirements.txt\n")
    cache = heroku.new_cache()
    output = failed_build(heroku, app, cache=cache)
    assert "Your app's WSGI entry point wsgi:application could not be loaded" in output
    assert "No module named 'launchpack_no_such_module'" in output
    assert 'File "greeting.py", line 2' in output  # where, in the user's files
    assert "Fix the error in greeting.py, line 2." in output
    assert "<frozen" not in output
    assert "LAUNCHPACK_SKIP_IMPORT_CHECK=1" in output
    # The opt-out builds it anyway, from the same cache (the failed build left it usable).
    slug = heroku.build(app, {"LAUNCHPACK_SKIP_IMPORT_CHECK": "1"}, cache_dir=cache)
    assert slug.compile.ok, slug.compile.output
    assert "Not importing the WSGI entry point: LAUNCHPACK_SKIP_IMPORT_CHECK is set" in slug.compile.output


def test_app_sh_that_is_not_executable(heroku: Heroku, app_copy):
    app = app_copy("app_sh")
    os.chmod(os.path.join(app, "app.sh"), 0o644)
    output = failed_build(heroku, app)
    assert "app.sh is not executable" in output
    assert "chmod +x app.sh" in output


def test_server_file_with_more_than_one_word(heroku: Heroku, app_copy):
    app = app_copy("server_app")
    write(os.path.join(app, ".launchpack", "server"), "gunicorn --workers 3\n")
    output = failed_build(heroku, app)
    assert ".launchpack/server must contain one word, the web server's name" in output
