"""Apps written for warpdrive (.warpdrive/ hooks, server_type, server_args, WARPDRIVE_HTTP_PORT)
built and served through the Heroku, CNB and CLI harnesses."""

from __future__ import annotations

import os
import socket

import pytest

from tests.conftest import FIXTURES, write
from tests.harness.cli import Cli, Result
from tests.harness.cnb import Lifecycle
from tests.harness.heroku import Heroku, free_port

pytestmark = pytest.mark.integration

WARPDRIVE_APP = os.path.join(FIXTURES, "warpdrive_app")

USED_LINES = (
    "-----> Using .warpdrive/server_type (warpdrive's file; .launchpack/server is launchpack's)",
    "-----> Using .warpdrive/server_args (warpdrive's file; .launchpack/server_args is launchpack's)",
    "-----> Using .warpdrive/action_hooks/build (warpdrive's file; .launchpack/action_hooks/build is launchpack's)",
    "-----> Using .warpdrive/action_hooks/setup (warpdrive's file; .launchpack/action_hooks/setup is launchpack's)",
)


def ok(result: Result) -> Result:
    assert result.returncode == 0, result.output
    assert "Traceback (most recent call last)" not in result.output, result.output
    return result


def assert_names_warpdrive_files(output: str) -> None:
    for line in USED_LINES:
        assert line in output, output
    assert "Web server: gunicorn (from .warpdrive/server_type)" in output, output
    assert " !     Warning: .warpdrive/environment: set these variables as config vars" in output, output


def test_heroku_builds_and_serves_a_warpdrive_app(heroku: Heroku):
    slug = heroku.build(WARPDRIVE_APP)
    assert slug.compile.ok, slug.compile.output
    out = slug.compile.output
    assert_names_warpdrive_files(out)
    assert "Running hook .warpdrive/action_hooks/build" in out and "warpdrive build hook: /tmp/build_" in out
    web = slug.process_command("web")
    assert "gunicorn" in web and "--env WARPDRIVE_ARGS=applied" in web, web
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/")
        assert page.status == 200 and page.text == "Hello from a warpdrive app at /\n"
        assert page.headers["server"].startswith("gunicorn")  # .warpdrive/server_type took effect
        assert dyno.get("/env?name=WARPDRIVE_ARGS").text == "applied\n"  # .warpdrive/server_args did
        assert dyno.get("/env?name=ARGS_PORT").text == f"{dyno.port}\n"  # $VARIABLES expanded at start
        assert dyno.get("/built").text == "written by .warpdrive/action_hooks/build\n"
        assert dyno.terminate() < 30


def test_heroku_serves_an_app_py_listening_on_warpdrive_http_port(heroku: Heroku):
    slug = heroku.build(os.path.join(FIXTURES, "warpdrive_app_py"))
    assert slug.compile.ok, slug.compile.output
    with heroku.start(slug) as dyno:
        dyno.wait_until_serving()
        page = dyno.get("/")
        assert page.status == 200 and page.text == "Hello from app.py on WARPDRIVE_HTTP_PORT\n"


def test_cli_builds_sets_up_and_starts_a_warpdrive_app(cli: Cli, app_copy):
    app = app_copy("warpdrive_app")
    built = ok(cli.run(["build"], cwd=app))
    assert_names_warpdrive_files(built.output)
    assert "Next: launchpack setup (first time: runs .warpdrive/action_hooks/setup), launchpack start" in built.output

    explained = ok(cli.run(["explain"], cwd=app)).output
    assert "-----> Server: gunicorn" in explained and "chosen by .warpdrive/server_type" in explained, explained
    assert "-----> Hooks: .warpdrive/action_hooks/build, .warpdrive/action_hooks/setup" in explained, explained
    assert (
        "-----> warpdrive files: .warpdrive/action_hooks/build, .warpdrive/action_hooks/setup,"
        " .warpdrive/server_type, .warpdrive/server_args" in explained
    ), explained
    assert ".warpdrive/environment: not used; set these variables as config vars" in explained, explained

    setup = ok(cli.run(["setup"], cwd=app)).output
    assert "Running .warpdrive/action_hooks/setup" in setup
    assert f"warpdrive setup hook ran in {app}" in setup, setup

    with cli.start(app) as server:
        server.wait_until_serving()
        page = server.get("/")
        assert page.status == 200 and page.text == "Hello from a warpdrive app at /\n"
        assert page.headers["server"].startswith("gunicorn")
        assert server.get("/env?name=WARPDRIVE_ARGS").text == "applied\n"
        assert server.get("/env?name=WARPDRIVE_HTTP_PORT").text == f"{server.port}\n"
        assert server.get("/built").text == "written by .warpdrive/action_hooks/build\n"
        assert server.stop() < 10


def test_cli_build_without_setup_hook_suggests_start_and_setup_fits_the_app(cli: Cli, app_copy):
    app = app_copy("wsgi_app")
    built = ok(cli.run(["build"], cwd=app))
    assert "Next: launchpack start" in built.output and "launchpack setup" not in built.output
    setup = cli.run(["setup"], cwd=app)
    assert setup.returncode == 1
    assert "Your app has no .launchpack/action_hooks/setup" in setup.output
    assert "manage.py" not in setup.output and "python -m myapp.init_db" in setup.output, setup.output


def test_cnb_builds_and_serves_a_warpdrive_app_with_per_server_args(cnb: Lifecycle, app_copy):
    app = app_copy("warpdrive_app")
    os.remove(os.path.join(app, ".warpdrive", "server_args"))  # warpdrive's other form: one file per server
    write(os.path.join(app, ".warpdrive", "server_args", "gunicorn"), "--env WARPDRIVE_ARGS=per-server\n")
    write(os.path.join(app, ".warpdrive", "server_args", "mod_wsgi"), "--not-for-gunicorn\n")
    build = cnb.build(app, cache=cnb.new_cache())
    assert build.ok, build.output
    assert (
        "-----> Using .warpdrive/server_args/gunicorn (warpdrive's file; .launchpack/server_args is launchpack's)"
        in build.output
    ), build.output
    assert "Web server: gunicorn (from .warpdrive/server_type)" in build.output
    web = build.image.process("web")["command"][2]
    assert "--env WARPDRIVE_ARGS=per-server" in web and "--not-for-gunicorn" not in web, web
    with cnb.start(build.image) as container:
        container.wait_until_serving()
        page = container.get("/")
        assert page.status == 200 and page.headers["server"].startswith("gunicorn")
        assert container.get("/env?name=WARPDRIVE_ARGS").text == "per-server\n"
        assert container.get("/env?name=WARPDRIVE_HTTP_PORT").text == f"{container.port}\n"
        assert container.get("/built").text == "written by .warpdrive/action_hooks/build\n"
        assert container.terminate() < 30


def test_cnb_serves_an_app_py_listening_on_warpdrive_http_port(cnb: Lifecycle):
    build = cnb.build(os.path.join(FIXTURES, "warpdrive_app_py"), cache=cnb.new_cache())
    assert build.ok, build.output
    with cnb.start(build.image) as container:
        container.wait_until_serving()
        assert container.get("/").text == "Hello from app.py on WARPDRIVE_HTTP_PORT\n"


def test_cli_start_on_a_busy_port_says_so_and_how_to_choose_another(cli: Cli, app_copy):
    app = app_copy("wsgi_app")
    ok(cli.run(["build"], cwd=app))
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = cli.run(["start"], cwd=app, env=cli.env(PORT=str(port)))
    assert result.returncode == 1, result.output
    assert f" !     Error: Port {port} is already in use (PORT {port} from the PORT environment variable)" in result.output
    assert f"PORT={port + 1} launchpack start" in result.output
    assert "Address already in use" not in result.output and "Traceback" not in result.output
