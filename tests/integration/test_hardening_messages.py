"""Adversarial builds, installer failures: each cause gets its own fix, not "check the package names"."""

from __future__ import annotations

import os

import pytest

from tests.conftest import write
from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration
GENERIC = "Check the package names and versions"


def failed(heroku: Heroku, app: str, config: dict[str, str] | None = None, cache: str | None = None) -> str:
    result = heroku.compile(heroku.stage_app(app), cache or heroku.new_cache(), config)
    assert result.returncode != 0, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    assert " !     Error: " in result.output
    assert GENERIC not in result.output, result.output
    return result.output


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_a_latin1_requirements_file_is_named_with_the_fix(heroku: Heroku, app_copy, installer):
    app = app_copy("wsgi_app")
    with open(os.path.join(app, "requirements.txt"), "wb") as handle:
        handle.write("# dépendances\nsix\n".encode("latin-1"))
    cache = heroku.new_cache()
    output = failed(heroku, app, {"LAUNCHPACK_INSTALLER": installer}, cache)
    assert "requirements.txt is not UTF-8 text, line 1" in output
    assert "Save requirements.txt as UTF-8" in output
    write(os.path.join(app, "requirements.txt"), "# dépendances\nsix\n")
    again = heroku.build(app, {"LAUNCHPACK_INSTALLER": installer}, cache_dir=cache)
    assert again.compile.ok, again.compile.output


def test_an_unreachable_index_is_named_not_the_package(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "requirements.txt"), "--index-url http://deploy:idx-t0ken-77@127.0.0.1:9/simple\nsix\n")
    output = failed(heroku, app)
    assert "the package index http://127.0.0.1:9/simple/ could not be reached" in output  # uv drops the userinfo
    assert "idx-t0ken-77" not in output


def test_an_editable_git_requirement_says_what_uv_cannot_do(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "requirements.txt"), "-e git+https://git.example.com/team/lib.git#egg=lib\n")
    output = failed(heroku, app)
    assert "requirements.txt, line 1: an editable requirement from Git, which uv cannot install" in output
    assert "remove the '-e '" in output and "LAUNCHPACK_INSTALLER=pip" in output


def test_a_database_driver_the_environment_lacks_fails_the_build(heroku: Heroku, app_copy):
    """`manage.py check` does not load the database backend: without psycopg the build was green
    and every request that touched the database failed."""
    app = app_copy("django")
    with open(os.path.join(app, "mysite", "settings.py"), "a", encoding="utf-8") as handle:
        handle.write('\nDATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "app"}}\n')
    result = heroku.compile(heroku.stage_app(app), heroku.new_cache())
    assert result.returncode != 0, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    assert "Error loading psycopg2 or psycopg module" in result.output
