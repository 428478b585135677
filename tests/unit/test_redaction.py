"""Config var values never reach the output, by any road, without blanking ordinary words."""

from __future__ import annotations

import io
import traceback

from runtime import redaction

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\nq2fT1xYz0Wb3kR9sLmNpQ4vXe8JhU7dK\n-----END PRIVATE KEY-----\n"


def redactor(values):
    r = redaction.Redactor()
    r.add_config(values)
    return r


def test_a_database_url_is_hidden_whole_and_its_password_alone():
    r = redactor({"DATABASE_URL": "postgres://admin:PASSWORD99@db.example.com/app"})
    assert "PASSWORD99" not in r(
        "OperationalError: could not connect to postgres://admin:PASSWORD99@db.example.com/app"
    )
    assert r("password 'PASSWORD99' rejected") == "password '[hidden]' rejected"


def test_the_userinfo_of_any_url_is_hidden_whatever_its_source():
    r = redaction.Redactor()
    assert (
        r("Looking in https://deploy:gh_abc123@git.example.com/x.git")
        == "Looking in https://[hidden]@git.example.com/x.git"
    )
    assert r("see https://docs.example.com/a@b") == "see https://docs.example.com/a@b"  # @ in a path is not userinfo


def test_every_line_of_a_multi_line_value_is_hidden():
    r = redactor({"JWT_SIGNING": PEM})
    for line in PEM.splitlines():
        assert line not in r(f"  {line}\n")
    assert "MIIEvQIBADAN" not in r(repr(PEM))  # as a traceback or repr() shows it, escaped


def test_names_that_do_not_say_secret_but_hold_credentials():
    r = redactor(
        {
            "DB_PASS": "hunter22",
            "SENTRY_DSN": "https://0123abcd@o1.ingest.sentry.io/42",
            "MAILER": "smtp://mail:Xy9-pq7@smtp.example.com:587",
            "UPSTREAM": "ak_live_9f8e7d6c5b4a",  # no telling name: looks like a credential
        }
    )
    text = r("hunter22 0123abcd Xy9-pq7 ak_live_9f8e7d6c5b4a")
    assert text == "[hidden] [hidden] [hidden] [hidden]"


def test_short_values_are_hidden_as_whole_tokens_only():
    r = redactor({"API_KEY": "abc1", "SECRET_KEY": "true", "DEBUG": "1", "APP_NAME": "web"})
    assert r("key=abc1.") == "key=[hidden]."
    assert r("abc12 xabc1") == "abc12 xabc1"  # not inside other tokens
    assert r("true web 1") == "true web 1"  # booleans, public and plain short values untouched


def test_public_settings_are_not_blanked():
    r = redactor({"DJANGO_SETTINGS_MODULE": "mysite.settings.production", "LAUNCHPACK_SERVER": "gunicorn"})
    assert r("Loading mysite.settings.production for gunicorn") == "Loading mysite.settings.production for gunicorn"


def test_the_writer_hides_a_secret_written_in_pieces():
    r = redactor({"SECRET_KEY": "s3cr3t-value-123"})
    sink = io.StringIO()
    writer = redaction.RedactingWriter(sink, r)
    try:
        raise ValueError("bad value s3cr3t-value-123")
    except ValueError:
        traceback.print_exc(file=writer)
    writer.write("s3cr3t-")
    writer.write("value-123 at the end")
    writer.flush()
    assert "s3cr3t" not in sink.getvalue()
    assert "ValueError: bad value [hidden]" in sink.getvalue()


def test_installer_failures_are_told_apart_by_their_output():
    from runtime import errors
    from runtime.installers import failure

    def kind(output):
        return type(failure.explain(output, "requirements.txt", "uv pip install", 2)).__name__

    assert kind("error: failed to write: No space left on device (os error 28)") == "InstallDiskFull"
    assert kind("error: failed to decode file `requirements.txt`: stream did not contain valid UTF-8") == (
        "RequirementsNotUtf8"
    )
    assert kind("  cause: Failed to fetch: `https://idx.example/simple/six/`\n  cause: dns error") == "IndexUnreachable"
    assert kind("Could not fetch URL https://idx.example/simple/six/: connection error: refused") == "IndexUnreachable"
    assert kind("No solution found when resolving dependencies: six==99 not found") == "DependencyInstallFailed"
    assert issubclass(errors.IndexUnreachable, errors.LaunchpackError)
