"""Adversarial builds, secrets: no config var value is ever printed, by any road, on any platform.

Each case builds an app that pushes a credential at the output (an exception quoting it, a hook
echoing it, an installer failing with it) and asserts: the failure or success the user expects,
no traceback, the secret nowhere in the output, and the next build succeeds."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.heroku import Heroku

pytestmark = pytest.mark.integration

DB_URL = "postgres://admin:Sup3rPassw0rd@db.internal.example:5432/prod"
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q2fT1xYz0Wb3\n"
    "kR9sLmNpQ4vXe8JhU7dKa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ0123456\n"
    "-----END PRIVATE KEY-----\n"
)
CONFIG = {
    "DATABASE_URL": DB_URL,
    "SECRET_KEY": "dj-k3y-0f-the-4pp-xyzzy",
    "DB_PASS": "hunter2-db",
    "SENTRY_DSN": "https://f00dfeedcafe42@o11.ingest.sentry.example/77",
    "JWT_PRIVATE": PEM,
    "API_KEY": "q7z9",  # short: hidden as a token, without blanking words
}
SECRETS = ["Sup3rPassw0rd", "dj-k3y-0f-the-4pp-xyzzy", "hunter2-db", "f00dfeedcafe42", "MIIEvQIBADAN", "kR9sLmNpQ4"]


def assert_nothing_leaked(output: str) -> None:
    assert "Traceback (most recent call last)" not in output, output
    for secret in SECRETS:
        assert secret not in output, f"{secret!r} leaked:\n{output}"
    assert not re.search(r"(?<![A-Za-z0-9])q7z9(?![A-Za-z0-9])", output), output  # the short one, as a token


def failed(result) -> str:
    assert not result.ok, result.output
    assert " !     Error: " in result.output, result.output
    assert_nothing_leaked(result.output)
    return result.output


WSGI_QUOTING_CONFIG = """\
import os

# What a real app does at import: connect, and fail with the URL in the message.
raise RuntimeError("could not connect to %s (password %s)" % (os.environ["DATABASE_URL"], os.environ["DB_PASS"]))
"""

SETTINGS_QUOTING_CONFIG = """\
import os
SECRET_KEY = os.environ["SECRET_KEY"]
raise ValueError(f"bad DATABASE_URL {os.environ['DATABASE_URL']!r}; key {SECRET_KEY!r}; dsn {os.environ['SENTRY_DSN']}")
"""


def wsgi_app_quoting_config(app_copy) -> str:
    app = app_copy("wsgi_app")
    write(os.path.join(app, "wsgi.py"), WSGI_QUOTING_CONFIG)
    return app


def django_app_quoting_config(app_copy) -> str:
    app = app_copy("django")
    settings = os.path.join(app, "mysite", "settings.py")
    with open(settings, encoding="utf-8") as handle:
        original = handle.read()
    write(settings, SETTINGS_QUOTING_CONFIG + original)
    return app


def test_heroku_entry_point_error_quoting_the_database_url(heroku: Heroku, app_copy):
    app = wsgi_app_quoting_config(app_copy)
    cache = heroku.new_cache()
    output = failed(heroku.build(app, CONFIG, cache_dir=cache).compile)
    assert "could not connect to [hidden] (password [hidden])" in output
    write(os.path.join(app, "wsgi.py"), open(os.path.join(FIXTURES, "wsgi_app", "wsgi.py")).read())
    assert heroku.build(app, CONFIG, cache_dir=cache).compile.ok


def test_heroku_django_settings_error_quoting_config(heroku: Heroku, app_copy):
    output = failed(heroku.build(django_app_quoting_config(app_copy), CONFIG).compile)
    assert "bad DATABASE_URL" in output  # the message itself is kept, only values hidden


def test_cnb_entry_point_error_quoting_the_database_url(cnb, app_copy):
    build = cnb.build(wsgi_app_quoting_config(app_copy), env=CONFIG)
    assert not build.ok
    assert "could not connect to" in build.output
    assert_nothing_leaked(build.output)


def test_cli_entry_point_error_quoting_a_dotenv_value(cli, app_copy):
    app = wsgi_app_quoting_config(app_copy)
    write(os.path.join(app, ".env"), "".join(f"{k}='{v}'\n" for k, v in CONFIG.items() if k != "JWT_PRIVATE"))
    result = cli.run(["build"], cwd=app)
    assert result.returncode == 1, result.output
    assert "could not connect to" in result.output
    assert_nothing_leaked(result.output)


def test_a_hook_echoing_every_kind_of_credential(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(
        os.path.join(app, ".launchpack/action_hooks/build"),
        "#!/bin/bash\n"
        'echo "url=$DATABASE_URL pass=$DB_PASS dsn=$SENTRY_DSN key=$API_KEY."\n'
        'printf "%s" "$JWT_PRIVATE"\n'
        'echo "clone https://deploy:ghp_notaconfigvar77@git.example.com/repo.git"\n'
        'echo "q7z9x is another word; the key was q7z9"\n'
        "env | sort\n",
        mode=0o755,
    )
    result = heroku.build(app, CONFIG)
    assert result.compile.ok, result.compile.output
    output = result.compile.output
    assert_nothing_leaked(output)
    assert "ghp_notaconfigvar77" not in output  # any URL's userinfo, config var or not
    assert "clone https://[hidden]@git.example.com/repo.git" in output
    assert "q7z9x is another word; the key was [hidden]" in output
    assert "-----BEGIN PRIVATE KEY-----" not in output


SETUP_PY_QUOTING_CONFIG = """\
import os
from setuptools import setup
raise SystemExit("cannot reach the private index with " + os.environ["DATABASE_URL"] + " " + os.environ["DB_PASS"])
setup(name="localdep", version="1.0")
"""


def test_installer_output_quoting_config(heroku: Heroku, app_copy):
    app = app_copy("wsgi_app")
    write(os.path.join(app, "localdep", "setup.py"), SETUP_PY_QUOTING_CONFIG)
    write(os.path.join(app, "requirements.txt"), "./localdep\n")
    cache = heroku.new_cache()
    output = failed(heroku.build(app, CONFIG, cache_dir=cache).compile)
    assert "cannot reach the private index with" in output
    write(os.path.join(app, "requirements.txt"), "\n")
    assert heroku.build(app, CONFIG, cache_dir=cache).compile.ok
